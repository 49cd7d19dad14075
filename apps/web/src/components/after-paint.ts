/** Runs `callback` once the browser has painted the current frame (for performance marks). */
export function afterPaint(callback: () => void): void {
  requestAnimationFrame(() => setTimeout(callback, 0));
}
