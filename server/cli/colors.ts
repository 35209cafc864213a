// ANSI colours for human output, only where they help: on a terminal, and
// never when NO_COLOR is set (https://no-color.org) or TERM is "dumb".

type Style = "dim" | "bold" | "red" | "green" | "yellow" | "blue" | "magenta" | "cyan";

const codes: Record<Style, [number, number]> = {
  dim: [2, 22],
  bold: [1, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
};

/** Wraps text in a style, or returns it unchanged when colours are off. */
export type Paint = (style: Style, text: string) => string;

/** Whether to colour output written to `stream`. FORCE_COLOR (non-empty, not "0") turns colours on anyway. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** A painter for `stream`. */
export function painter(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Paint {
  if (!useColor(stream, env)) return (_style, text) => text;
  return (style, text) => `\u001b[${codes[style][0]}m${text}\u001b[${codes[style][1]}m`;
}
