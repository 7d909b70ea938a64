#!/usr/bin/python3
"""Golden ids for scalpel's SentencePiece tokenizer tests, made by SentencePiece itself.

Reads the shared test corpus (test/fixtures/tokenizer-corpus.json), plus the first 8,000
characters of WikiText-2 test as one long document, and encodes every text with the reference
`sentencepiece` library, without and with BOS, for:
  - Llama-2's tokenizer.model  -> test/fixtures/llama2-sentencepiece-ids.json
  - llama2.c's tok512.model     -> test/fixtures/tinystories-tok512-ids.json

Setup (Debian):  apt-get install -y python3-sentencepiece   (then run with /usr/bin/python3)
Usage:           /usr/bin/python3 scripts/make-llama2-golden.py [path/to/shared]
The shared folder defaults to ../shared relative to the repository root.
"""
import json
import os
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
CORPUS = os.path.join(ROOT, "test", "fixtures", "tokenizer-corpus.json")

MODELS = [
    ("tokenizers/llama2-sentencepiece-32k/tokenizer.model", "llama2-sentencepiece-ids.json"),
    ("tokenizers/tinystories-tok512/tok512.model", "tinystories-tok512-ids.json"),
]


def main() -> None:
    with open(CORPUS, encoding="utf-8") as f:
        corpus = json.load(f)
    for rel, out_name in MODELS:
        sp = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, rel))
        cases = []
        for text in corpus:
            ids = sp.encode(text)
            cases.append({"text": text, "ids": ids, "ids_bos": [sp.bos_id()] + ids, "decoded": sp.decode(ids)})
        # One long document (the first 8,000 characters of WikiText-2 test): whole-text encoding
        # with no pre-tokenizer is where a BPE implementation's speed-ups could go wrong.
        wiki = os.path.join(SHARED, "data", "wikitext-2", "raw", "wiki.test.raw")
        if os.path.exists(wiki):
            with open(wiki, encoding="utf-8") as f:
                text = f.read()[:8000]
            ids = sp.encode(text)
            cases.append({"text": text, "ids": ids, "ids_bos": [sp.bos_id()] + ids, "decoded": sp.decode(ids)})
        doc = {
            "model": rel,
            "made_by": f"sentencepiece {spm.__version__} via scripts/make-llama2-golden.py",
            "bos_id": sp.bos_id(),
            "cases": cases,
        }
        out = os.path.join(ROOT, "test", "fixtures", out_name)
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            # One case per line: reviewable diffs without a line per id.
            head = {k: v for k, v in doc.items() if k != "cases"}
            f.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "cases": [\n')
            f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
            f.write("\n]}\n")
        os.replace(tmp, out)
        print(f"{out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
