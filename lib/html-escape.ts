// Text made safe for HTML: escaping, and removing the ANSI colour escapes kernels put in tracebacks.
// Reference: HTML Living Standard §13.1 (characters to escape); ECMA-48 CSI sequences.

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `text` with &, <, >, " and ' replaced by entities (safe in element content and quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** `text` without ANSI escape sequences (colours, cursor moves). */
export function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g, "");
}
