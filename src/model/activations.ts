/**
 * MLP activations by their transformers ACT2FN names (transformers/activations.py).
 * gelu_new / gelu_pytorch_tanh / gelu_fast are the tanh approximation
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); "gelu" is the exact erf form 0.5·x·(1 + erf(x/√2)).
 */
import { lax, nn, numpy as np } from "@jax-js/jax";
import { ConfigError } from "../errors.js";
import type { Arr } from "./types.js";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function geluTanh(x: Arr): Arr {
  const inner = x.ref.add(np.power(x.ref, 3).mul(0.044715)).mul(SQRT_2_OVER_PI);
  return x.mul(np.tanh(inner).add(1)).mul(0.5);
}

function geluErf(x: Arr): Arr {
  return x.ref.mul(lax.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
}

const ACTIVATIONS: Record<string, (x: Arr) => Arr> = {
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  gelu: geluErf,
  silu: (x) => nn.silu(x),
  swish: (x) => nn.silu(x),
  relu: (x) => nn.relu(x),
};

export const supportedActivations = Object.keys(ACTIVATIONS);

/** The activation function for an ACT2FN name; ConfigError for names scalpel does not implement. */
export function activation(name: string, file = "config.json", field = "hidden_act"): (x: Arr) => Arr {
  const fn = ACTIVATIONS[name];
  if (!fn) {
    throw new ConfigError("UNSUPPORTED_ACTIVATION", `activation '${name}' is not supported (supported: ${supportedActivations.join(", ")})`, {
      file,
      field,
      fix: "use a checkpoint whose activation is one of the supported ones",
    });
  }
  return fn;
}
