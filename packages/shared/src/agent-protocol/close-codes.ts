/**
 * Websocket close codes of the agent channel that change what the agent does next. Any other
 * close is retried with backoff.
 */

/** The instance is shutting down (SIGTERM, scale-in): reconnect at once, to another API URL when there is one. */
export const CLOSE_GOING_ELSEWHERE = 4012;
