// Idempotent registration in tfjs's (process-global) gradient and kernel registries.
// Reference: tfjs-core kernel_registry.ts (registerGradient / getGradient, registerKernel / getKernel).
import * as tf from "@tensorflow/tfjs";

/**
 * Registers `config` as the gradient of its kernel unless it is already the registered one. Re-installs it when
 * something registered another gradient for that kernel since (e.g. a second copy of tfjs-core loading its own).
 */
export function ensureGradient(config: tf.GradConfig): void {
  if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
}

/** Registers `config` unless its backend already has a kernel of that name (a backend's own kernel wins). */
export function ensureKernel(config: tf.KernelConfig): void {
  if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
}
