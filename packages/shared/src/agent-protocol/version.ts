import { Type } from "@sinclair/typebox";

/**
 * Bumped on any change an older peer could misread. The API refuses an agent with another major
 * version at hello (with an `error` message naming both), so a half-upgraded fleet degrades to
 * "agent offline, keeps its last state" rather than to wrong routes.
 */
export const PROTOCOL_VERSION = 1;

export const ProtocolVersionSchema = Type.Integer({ minimum: 1, maximum: 65535 });

export function isCompatibleProtocol(version: number): boolean {
  return version === PROTOCOL_VERSION;
}
