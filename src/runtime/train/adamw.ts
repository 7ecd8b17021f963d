// AdamW (Loshchilov & Hutter): Adam moments with bias correction, and weight decay
// applied to the parameter directly rather than folded into the gradient. Parameters are
// named flat Float32Arrays (a tag's p×H vectors, a head's weight), updated in place.

export interface AdamWConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** The optimizer's state, as a checkpoint stores it. */
export interface AdamWState {
  readonly step: number;
  readonly m: ReadonlyMap<string, Float32Array>;
  readonly v: ReadonlyMap<string, Float32Array>;
}

export class AdamW {
  private stepCount = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();

  constructor(readonly config: AdamWConfig = DEFAULT_ADAMW) {}

  /** Number of updates applied so far. */
  get step(): number {
    return this.stepCount;
  }

  /**
   * One update of every parameter that has a gradient, at learning rate `lr`.
   * Follows PyTorch's AdamW: decay first (p ← p·(1 − lr·wd)), then the bias-corrected Adam step.
   * `lrScale` multiplies the rate of the parameters it names (PyTorch's parameter groups).
   */
  update(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number, lrScale?: ReadonlyMap<string, number>): void {
    const { beta1, beta2, eps, weightDecay } = this.config;
    this.stepCount++;
    const c1 = 1 - beta1 ** this.stepCount;
    const c2Sqrt = Math.sqrt(1 - beta2 ** this.stepCount);
    for (const [name, g] of grads) {
      const rate = lr * (lrScale?.get(name) ?? 1);
      const stepSize = rate / c1;
      const decay = 1 - rate * weightDecay;
      const p = params.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
      if (p.length !== g.length) throw new Error(`AdamW: ${name} has ${p.length} values but its gradient ${g.length}`);
      const m = this.moment(this.m, name, p.length);
      const v = this.moment(this.v, name, p.length);
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        p[i] = p[i] * decay - (stepSize * m[i]) / (Math.sqrt(v[i]) / c2Sqrt + eps);
      }
    }
  }

  getState(): AdamWState {
    return { step: this.stepCount, m: this.m, v: this.v };
  }

  setState(state: AdamWState): void {
    this.stepCount = state.step;
    this.m.clear();
    this.v.clear();
    for (const [k, a] of state.m) this.m.set(k, Float32Array.from(a));
    for (const [k, a] of state.v) this.v.set(k, Float32Array.from(a));
  }

  private moment(store: Map<string, Float32Array>, name: string, n: number): Float32Array {
    let a = store.get(name);
    if (!a) store.set(name, (a = new Float32Array(n)));
    return a;
  }
}
