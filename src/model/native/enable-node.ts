/**
 * Register the onnxruntime executor (onnx-node.ts) for forward-only work (executor.ts), loading
 * onnxruntime only when a model first needs it, so commands that never run a model do not pay for
 * the native library. SCALPEL_EXECUTOR=jax keeps everything on jax-js, as in a browser.
 */
import { setNativeExecutor, type NativeDecoder } from "./executor.js";

let loaded: Promise<typeof import("./onnx-node.js")> | undefined;
const load = () => (loaded ??= import("./onnx-node.js"));

export function enableNativeExecutor(): boolean {
  if (process.env.SCALPEL_EXECUTOR === "jax") return false;
  setNativeExecutor({
    name: "onnxruntime",
    forward: async (model, tokens, options) => (await load()).nativeForward(model, tokens, options),
    decoder(model): NativeDecoder {
      let decoder: NativeDecoder | undefined;
      return {
        async prefill(tokens, mask) {
          decoder = (await load()).nativeDecoder(model);
          return decoder.prefill(tokens, mask);
        },
        step: (next) => decoder!.step(next),
        dispose: () => decoder?.dispose(),
      };
    },
    gram: async (x) => (await load()).nativeGram(x),
    // Nothing was compiled unless onnx-node.ts was loaded, so release loads nothing.
    release: (model) => void (loaded && loaded.then((m) => m.releaseSessions(model))),
  });
  return true;
}
