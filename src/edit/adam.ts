/**
 * Adam on host vectors (torch.optim.Adam defaults: β = (0.9, 0.999), ε = 1e-8, no weight decay
 * unless given, L2-style as torch adds it to the gradient), for the editors' small optimisations:
 * ROME's δ (d_model numbers) and FT's weight matrices.
 *
 * Not train/adamw.ts: that is AdamW (decoupled decay, only on ≥ 2-dim parameters) over device
 * arrays of a parameter tree; this is torch.optim.Adam (decay added to the gradient) over one host
 * vector, and the editors' golden numbers are this algorithm's. edit/ and train/ are siblings, so
 * neither imports the other.
 */
export class Adam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  constructor(
    n: number,
    private readonly lr: number,
    private readonly weightDecay = 0,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
  }

  /** x ← x − lr · m̂ / (√v̂ + ε), in place. */
  step(x: Float32Array, grad: Float32Array): void {
    this.t++;
    const { m, v, beta1, beta2 } = this;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    for (let i = 0; i < x.length; i++) {
      const g = grad[i]! + this.weightDecay * x[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      x[i]! -= (this.lr * (m[i]! / bc1)) / (Math.sqrt(v[i]! / bc2) + this.eps);
    }
  }
}
