#!/usr/bin/env python3
"""Reference token ids of the real tokenizers in $TAGLLM_DATA_DIR/tokenizers, and vocab-only
GGUFs written from them in llama.cpp's converter's form, for the tokenizer parity tests.

For each case: the reference library's ids (`tokenizers` on tokenizer.json, or sentencepiece
on tokenizer.model; never transformers' tokenizer classes, which the data README shows to
differ) for every text of TEXTS_FILE and of llama.cpp's test strings, without special tokens
added (special tokens written in a text are matched, as `tokenizers` does). Byte-level BPE vocabularies are written as GGUFs (`gpt2` model, their `pre` name);
SentencePiece models as `llama` GGUFs (pieces, scores, token types), as llama.cpp does.

usage: make-tokenizer-fixtures.py TEXTS_FILE OUT_DIR
writes OUT_DIR/references.json and OUT_DIR/CASE.gguf
"""
import json
import os
import re
import sys
from pathlib import Path

import gguf
import sentencepiece
from tokenizers import Tokenizer

DATA = Path(os.environ.get('TAGLLM_DATA_DIR', Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data'))
TOKENIZERS = DATA / 'tokenizers'
VECTORS = TOKENIZERS / 'llama.cpp-vocab-tests'

# case -> (reference file under TOKENIZERS, llama.cpp `tokenizer.ggml.pre` for byte-level BPE)
JSON_CASES = {
    'qwen2.5': ('qwen2.5/tokenizer.json', 'qwen2'),
    'qwen3': ('qwen3/tokenizer.json', 'qwen2'),
    'llama3': ('llama3-bpe/tokenizer.json', 'llama-bpe'),
    'smollm2': ('smollm2/tokenizer.json', 'smollm'),
    'phi3': ('phi3/tokenizer.json', None),  # SentencePiece BPE; its GGUF is llama.cpp's own
}
SPM_CASES = {
    'llama2': 'llama2-spm/tokenizer.model',
    'mistral': 'mistral-v0.1/tokenizer.model',
}


def main() -> None:
    texts = json.loads(Path(sys.argv[1]).read_text())['texts']
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    vector_texts = (VECTORS / 'ggml-vocab-llama-spm.gguf.inp').read_text().split('\n__ggml_vocab_test__\n')[:-1]
    references = {'texts': texts, 'vector_texts': vector_texts, 'cases': {}}
    for case, (file, pre) in JSON_CASES.items():
        tokenizer = Tokenizer.from_file(str(TOKENIZERS / file))
        encode = lambda t: tokenizer.encode(t, add_special_tokens=False).ids  # noqa: E731
        references['cases'][case] = ids_of(encode, texts, vector_texts)
        if pre:
            write_bpe_gguf(out / f'{case}.gguf', TOKENIZERS / file, tokenizer, pre)
    for case, file in SPM_CASES.items():
        sp = sentencepiece.SentencePieceProcessor(model_file=str(TOKENIZERS / file))
        references['cases'][case] = ids_of(with_control_tokens(sp), texts, vector_texts)
        write_spm_gguf(out / f'{case}.gguf', sp)
    (out / 'references.json').write_text(json.dumps(references, ensure_ascii=False))


def with_control_tokens(sp):
    """sentencepiece's ids, with control tokens written in the text taken as those tokens, as the
    `tokenizers` library (and so transformers) does with special tokens: the text is split at
    them and each piece between them is encoded on its own (dummy prefix included)."""
    controls = {sp.id_to_piece(i): i for i in range(sp.get_piece_size()) if sp.is_control(i)}
    pattern = re.compile('|'.join(re.escape(c) for c in sorted(controls, key=len, reverse=True)))

    def encode(text: str) -> list:
        ids, start = [], 0
        for m in pattern.finditer(text):
            if m.start() > start:
                ids += sp.encode(text[start:m.start()])
            ids.append(controls[m.group()])
            start = m.end()
        return ids + (sp.encode(text[start:]) if start < len(text) else [])
    return encode


def ids_of(encode, texts: list, vector_texts: list) -> dict:
    return {'texts': [encode(t) for t in texts], 'vector_texts': [encode(t) for t in vector_texts]}


def write_bpe_gguf(path: Path, file: Path, tokenizer: Tokenizer, pre: str) -> None:
    w = gguf.GGUFWriter(str(path), 'llama')
    add_bpe_vocab(w, file, tokenizer, pre)
    finish(w)


def add_bpe_vocab(w: gguf.GGUFWriter, file: Path, tokenizer: Tokenizer, pre: str) -> None:
    """A byte-level BPE tokenizer.json as llama.cpp's converter writes it: every id with its
    text and type (added special tokens are control, other added ones user-defined), the merges."""
    doc = json.loads(file.read_text())
    added = {t['id']: t for t in doc['added_tokens']}
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    tokens = [''] * (max(vocab.values()) + 1)
    for text, i in vocab.items():
        tokens[i] = text
    types = [gguf.TokenType.CONTROL if i in added and added[i]['special'] else gguf.TokenType.USER_DEFINED if i in added else gguf.TokenType.NORMAL
             for i in range(len(tokens))]
    w.add_tokenizer_model('gpt2')
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([m if isinstance(m, str) else ' '.join(m) for m in doc['model']['merges']])
    w.add_add_bos_token(False)


def write_spm_gguf(path: Path, sp) -> None:
    """llama.cpp's SentencePiece vocabulary: pieces, scores and token types."""
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        types.append(gguf.TokenType.UNKNOWN if sp.is_unknown(i) else gguf.TokenType.CONTROL if sp.is_control(i)
                     else gguf.TokenType.UNUSED if sp.is_unused(i) else gguf.TokenType.BYTE if sp.is_byte(i) else gguf.TokenType.NORMAL)
    w = gguf.GGUFWriter(str(path), 'llama')
    w.add_tokenizer_model('llama')
    w.add_tokenizer_pre('default')
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(False)
    finish(w)


def finish(w: gguf.GGUFWriter) -> None:
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == '__main__':
    main()
