// GGUF files of real model shapes whose tensor data is a hole: gguf-py (the reference writer)
// writes the header, metadata and tensor table, and the file is then extended to its full size
// without writing the data, so an 8B-shaped file costs a few kB of disk. For tests of what is
// decided from the header alone (listing, memory checks); reading a tensor gives zeros.
import { spawnSync } from 'node:child_process';
import { pythonExecutable } from './python';

export interface SparseGgufSpec {
  readonly path: string;
  readonly architecture: string;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly ffn: number;
  readonly vocab: number;
  /** ggml type of the 2-D weights: Q4_0, Q8_0, Q4_K, Q6_K, F16… */
  readonly type: string;
  /** general.file_type (llama_ftype); left out when undefined. */
  readonly fileType?: number;
  readonly tied: boolean;
}

const SCRIPT = String.raw`
import json, sys
import numpy as np
import gguf
Q = gguf.GGMLQuantizationType
for s in json.load(sys.stdin):
    arch, h = s['architecture'], s['hidden']
    kv = h // s['heads'] * s['kvHeads']
    w = gguf.GGUFWriter(s['path'], arch)
    if s.get('fileType') is not None:
        w.add_file_type(s['fileType'])
    w.add_context_length(4096)
    w.add_embedding_length(h)
    w.add_block_count(s['layers'])
    w.add_feed_forward_length(s['ffn'])
    w.add_head_count(s['heads'])
    w.add_head_count_kv(s['kvHeads'])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model('gpt2')
    w.add_token_list(['a', 'b', 'ab'])
    w.add_token_merges(['a b'])
    qt = Q[s['type']]
    def add(name, rows, cols, t):
        bs, bb = gguf.GGML_QUANT_SIZES[t]
        nbytes = rows * cols // bs * bb
        if t in (Q.F32, Q.F16):
            w.add_tensor_info(name, [rows, cols] if rows > 1 else [cols], np.dtype(np.float32 if t == Q.F32 else np.float16), nbytes)
        else:
            w.add_tensor_info(name, [rows, cols // bs * bb], np.dtype(np.uint8), nbytes, raw_dtype=t)
    add('token_embd.weight', s['vocab'], h, qt)
    for b in range(s['layers']):
        p = f'blk.{b}.'
        add(p + 'attn_norm.weight', 1, h, Q.F32)
        add(p + 'attn_q.weight', h, h, qt)
        add(p + 'attn_k.weight', kv, h, qt)
        add(p + 'attn_v.weight', kv, h, qt)
        add(p + 'attn_output.weight', h, h, qt)
        add(p + 'ffn_norm.weight', 1, h, Q.F32)
        add(p + 'ffn_gate.weight', s['ffn'], h, qt)
        add(p + 'ffn_up.weight', s['ffn'], h, qt)
        add(p + 'ffn_down.weight', h, s['ffn'], qt)
    add('output_norm.weight', 1, h, Q.F32)
    if not s['tied']:
        add('output.weight', s['vocab'], h, qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    data_start = gguf.GGUFWriter.ggml_pad(w.fout[0].tell(), w.data_alignment)
    total = sum(gguf.GGUFWriter.ggml_pad(ti.nbytes, w.data_alignment) for ti in w.tensors[0].values())
    w.fout[0].truncate(data_start + total)
    w.close()
`;

export function writeSparseGgufs(specs: readonly SparseGgufSpec[]): void {
  const r = spawnSync(pythonExecutable(), ['-c', SCRIPT], { input: JSON.stringify(specs), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`writing sparse GGUF files failed:\n${r.stderr}`);
}
