// @ts-check
// Attention rollout, shared by the inference worker (which reduces a ViT's attention tensors to
// one row before anything crosses to the main thread) and the main thread (sessions created in
// this thread, unit tests). Plain JavaScript on purpose: the worker starts without the TypeScript loader.

/**
 * The class token's row of the attention rollout (Abnar & Zuidema 2020): each layer's attention
 * averaged over heads, plus the identity for the residual connection (½A + ½I), rows renormalised,
 * multiplied from the first layer up (Ā_L ⋯ Ā_1). Only row 0 is read, so it is computed as
 * e₀ᵀ Ā_L ⋯ Ā_1, vector times matrix from the last layer down: tokens² work per layer, not tokens³.
 * @param {ReadonlyArray<ArrayLike<number>>} layers each [heads, tokens, tokens], first layer first
 * @param {number} tokens
 * @returns {Float64Array} the class token's row over every token (it sums to 1)
 */
export function rolloutClassRow(layers, tokens) {
  if (layers.length === 0) throw new Error('attention rollout needs at least one layer');
  const plane = tokens * tokens;
  let row = new Float64Array(tokens);
  row[0] = 1;
  for (let l = layers.length - 1; l >= 0; l -= 1) {
    const layer = /** @type {ArrayLike<number>} */ (layers[l]);
    const heads = layer.length / plane;
    if (!Number.isInteger(heads) || heads < 1)
      throw new Error(`attention layer ${l}: ${layer.length} values are not heads × ${tokens} × ${tokens}`);
    const next = new Float64Array(tokens);
    const a = new Float64Array(tokens);
    for (let r = 0; r < tokens; r += 1) {
      const weight = /** @type {number} */ (row[r]);
      if (weight === 0) continue;
      a.fill(0);
      for (let h = 0; h < heads; h += 1) {
        const at = h * plane + r * tokens;
        for (let c = 0; c < tokens; c += 1)
          a[c] = /** @type {number} */ (a[c]) + /** @type {number} */ (layer[at + c]) / heads;
      }
      let sum = 0;
      for (let c = 0; c < tokens; c += 1) {
        const value = 0.5 * /** @type {number} */ (a[c]) + (r === c ? 0.5 : 0);
        a[c] = value;
        sum += value;
      }
      for (let c = 0; c < tokens; c += 1)
        next[c] = /** @type {number} */ (next[c]) + (weight * /** @type {number} */ (a[c])) / sum;
    }
    row = next;
  }
  return row;
}

/**
 * @typedef {{ type: string, dims: readonly number[], data: unknown }} TensorLike
 * @typedef {{ op: 'attention-rollout', inputs: string[], output: string }} Reduction
 */

/**
 * Replaces a batch's attention tensors ([N, heads, tokens, tokens] each) by one float32 tensor
 * [N, tokens]: each item's class-token row of the rollout. The other outputs pass through.
 * @param {Record<string, TensorLike>} outputs
 * @param {readonly Reduction[]} reductions
 * @returns {Record<string, TensorLike>}
 */
export function applyReductions(outputs, reductions) {
  /** @type {Record<string, TensorLike>} */
  const reduced = { ...outputs };
  for (const reduction of reductions) {
    const layers = reduction.inputs.map((name) => {
      const tensor = outputs[name];
      if (!tensor) throw new Error(`attention rollout: the session returned no "${name}"`);
      return tensor;
    });
    const first = /** @type {TensorLike} */ (layers[0]);
    const batch = Number(first.dims[0]);
    const tokens = Number(first.dims[first.dims.length - 1]);
    const size = /** @type {Float32Array} */ (first.data).length / batch;
    const rows = new Float32Array(batch * tokens);
    for (let n = 0; n < batch; n += 1) {
      const item = layers.map((layer) => /** @type {Float32Array} */ (layer.data).subarray(n * size, (n + 1) * size));
      rows.set(rolloutClassRow(item, tokens), n * tokens);
    }
    for (const name of reduction.inputs) delete reduced[name];
    reduced[reduction.output] = { type: 'float32', dims: [batch, tokens], data: rows };
  }
  return reduced;
}
