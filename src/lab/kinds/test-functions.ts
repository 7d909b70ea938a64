/**
 * Known 2-D test functions with known minima, so that searches over them can be checked exactly.
 * Branin follows the standard definition (Dixon & Szegő 1978) on x0 ∈ [-5, 10], x1 ∈ [0, 15].
 */
export interface TestFunction {
  f(x0: number, x1: number): number;
  grad(x0: number, x1: number): [number, number];
  /** Global minimum value and the points where it is reached. */
  minimum: number;
  argmin: [number, number][];
  /** The usual search domain. */
  domain: { x0: [number, number]; x1: [number, number] };
}

const quadratic: TestFunction = {
  // An axis-aligned bowl centred away from the origin, so "start at 0" is not already optimal.
  f: (x0, x1) => (x0 - 1) ** 2 + 2 * (x1 - 2) ** 2,
  grad: (x0, x1) => [2 * (x0 - 1), 4 * (x1 - 2)],
  minimum: 0,
  argmin: [[1, 2]],
  domain: { x0: [-5, 5], x1: [-5, 5] },
};

const rosenbrock: TestFunction = {
  f: (x0, x1) => (1 - x0) ** 2 + 100 * (x1 - x0 * x0) ** 2,
  grad: (x0, x1) => [-2 * (1 - x0) - 400 * x0 * (x1 - x0 * x0), 200 * (x1 - x0 * x0)],
  minimum: 0,
  argmin: [[1, 1]],
  domain: { x0: [-2, 2], x1: [-1, 3] },
};

const A = 1, B = 5.1 / (4 * Math.PI ** 2), C = 5 / Math.PI, R = 6, S = 10, T = 1 / (8 * Math.PI);
const branin: TestFunction = {
  f: (x0, x1) => A * (x1 - B * x0 * x0 + C * x0 - R) ** 2 + S * (1 - T) * Math.cos(x0) + S,
  grad: (x0, x1) => {
    const inner = x1 - B * x0 * x0 + C * x0 - R;
    return [2 * A * inner * (-2 * B * x0 + C) - S * (1 - T) * Math.sin(x0), 2 * A * inner];
  },
  minimum: 0.39788735772973816,
  argmin: [[-Math.PI, 12.275], [Math.PI, 2.275], [9.42478, 2.475]],
  domain: { x0: [-5, 10], x1: [0, 15] },
};

export const testFunctions = { quadratic, rosenbrock, branin } as const;
export type TestFunctionName = keyof typeof testFunctions;
export const testFunctionNames = Object.keys(testFunctions) as TestFunctionName[];
