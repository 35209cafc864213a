/**
 * Ctrl-C (SIGINT) and SIGTERM as an AbortSignal, so a command can stop
 * cleanly instead of being killed mid-write. A second Ctrl-C exits at once
 * with code 130. dispose() restores the default signal behaviour.
 */
export function interruptSignal(): { signal: AbortSignal; trigger(): void; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new DOMException("interrupted", "AbortError"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    trigger: () => controller.abort(new DOMException("interrupted", "AbortError")),
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
