// Typed errors for everything the runtime reads or is asked to do. Each one carries the
// file (or value) that caused it, so the CLI and the editor can print a one-line message
// that names the problem, never a stack trace.

export class TagLlmError extends Error {
  constructor(message: string, readonly path?: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = new.target.name;
  }
}

/** A model, tokenizer, tag-bundle or data file whose bytes or structure are not what they claim. */
export class InvalidFileError extends TagLlmError {}

/** A file format feature we do not support (yet), e.g. an unknown GGUF tensor type. */
export class UnsupportedError extends TagLlmError {}

/** Shapes that do not fit together: a bundle for another model, a head of the wrong width. */
export class ShapeMismatchError extends TagLlmError {}

/** A user-supplied value (flag, template, row) that cannot be used. */
export class UsageError extends TagLlmError {}

/** A model that must be downloaded but cannot be (offline, HTTP error). */
export class DownloadError extends TagLlmError {}

/** A model this machine's memory cannot hold: refused before loading rather than swapping. */
export class InsufficientMemoryError extends TagLlmError {
  constructor(
    message: string,
    path: string,
    readonly sizes: { readonly fileBytes: number; readonly estimateBytes: number; readonly availableBytes: number },
  ) {
    super(message, path);
  }
}

/** The machine or the process limits deny what a step needs (address space, memory); the message names the limit. */
export class ResourceLimitError extends TagLlmError {}
