// Gradient accumulation: micro-batches add their summed gradients here, and the optimizer
// reads the mean over every example seen since the last reset, so the update equals one
// taken on the whole effective batch.

export class GradientAccumulator {
  private readonly sums = new Map<string, Float32Array>();
  private examples = 0;

  /** Adds one micro-batch's gradient, summed over its `nExamples` examples. */
  add(grads: ReadonlyMap<string, Float32Array>, nExamples: number): void {
    for (const [name, g] of grads) {
      let s = this.sums.get(name);
      if (!s) this.sums.set(name, (s = new Float32Array(g.length)));
      for (let i = 0; i < g.length; i++) s[i] += g[i];
    }
    this.examples += nExamples;
  }

  get count(): number {
    return this.examples;
  }

  /** The mean gradient per example. */
  mean(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    const scale = this.examples > 0 ? 1 / this.examples : 0;
    for (const [name, s] of this.sums) out.set(name, s.map((x) => x * scale));
    return out;
  }

  reset(): void {
    this.sums.clear();
    this.examples = 0;
  }
}
