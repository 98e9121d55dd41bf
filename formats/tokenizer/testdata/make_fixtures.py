#!/usr/bin/env python3
"""Writes the hand-built tokenizer fixtures of formats/tokenizer's tests.

Run from this directory: python3 make_fixtures.py. The vocabularies and
merges are listed here in full; README.md works out by hand the ids the
tests expect from them.
"""
import json
import os


def byte_runes():
    """GPT-2's bytes_to_unicode: the rune that stands for each byte."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write('\n')


def added(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": False, "special": True}


def bos_template(token, i):
    return {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": token, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {token: {"id": token, "ids": [i], "tokens": [token]}}}


# SentencePiece-style BPE, laid out as LLaMA-2's: <unk> <s> </s>, the 256
# byte-fallback tokens <0x00>..<0xFF> at ids 3..258, then pieces.
spm_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    spm_vocab["<0x%02X>" % b] = 3 + b
for piece in ["▁", "h", "e", "l", "o", "w", "r", "d", "▁h", "ll", "▁he", "llo", "▁hello",
              "▁w", "or", "▁wor", "ld", "▁world", "é"]:
    spm_vocab[piece] = len(spm_vocab)
spm_merges = ["▁ h", "l l", "▁h e", "ll o", "▁he llo", "▁ w", "o r", "▁w or", "l d", "▁wor ld"]
spm_model = {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
             "vocab": spm_vocab, "merges": spm_merges}
spm_added = [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")]

# LLaMA-2's layout: normalizer Prepend("▁") + Replace(" " -> "▁"), no
# pre-tokenizer; its tokenizer_config.json adds <s>.
write("llama2/tokenizer.json", {
    "version": "1.0", "truncation": None, "padding": None, "added_tokens": spm_added,
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
    "pre_tokenizer": None,
    "post_processor": bos_template("<s>", 1),
    "decoder": {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": spm_model})
write("llama2/tokenizer_config.json", {
    "add_bos_token": True, "add_eos_token": False,
    "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": False, "normalized": False,
                  "rstrip": False, "single_word": False},
    "eos_token": "</s>", "unk_token": "<unk>", "legacy": False, "tokenizer_class": "LlamaTokenizer"})

# The newer layout (Mistral, re-saved LLaMA-2): a Metaspace pre-tokenizer,
# merges as pairs; no tokenizer_config.json, so the template decides the BOS.
write("mistral/tokenizer.json", {
    "version": "1.0", "truncation": None, "padding": None, "added_tokens": spm_added,
    "normalizer": None,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
    "post_processor": bos_template("<s>", 1),
    "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
    "model": dict(spm_model, merges=[m.split(" ") for m in spm_merges])})

# Byte-level BPE: the 256 byte symbols at ids 0..255 in byte order, then
# merged tokens, then "Ġworld", which no merge makes.
br = byte_runes()
bl_vocab = {br[b]: b for b in range(256)}
bl_merges = ["H e", "l l", "He ll", "Hell o", "Ġ w", "o r", "Ġw or", "1 2", "12 3", "4 5"]
for m in bl_merges:
    bl_vocab[m.replace(" ", "")] = len(bl_vocab)
bl_vocab["Ġworld"] = len(bl_vocab)
bl_added = [added(len(bl_vocab), "<|begin_of_text|>"), added(len(bl_vocab) + 1, "<|end_of_text|>")]
byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}


def split(pattern):
    return {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False}


LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

# LLaMA-3's layout: Split + ByteLevel, ignore_merges, and a post-processor
# Sequence whose template adds <|begin_of_text|>.
write("llama3/tokenizer.json", {
    "version": "1.0", "truncation": None, "padding": None, "added_tokens": bl_added,
    "normalizer": None,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(LLAMA3), byte_level]},
    "post_processor": {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        bos_template("<|begin_of_text|>", bl_added[0]["id"])]},
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
              "vocab": bl_vocab, "merges": bl_merges}})
write("llama3/tokenizer_config.json", {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"})

# Qwen2's layout: NFC, Split + ByteLevel, a ByteLevel post-processor, and
# bos_token null.
write("qwen2/tokenizer.json", {
    "version": "1.0", "truncation": None, "padding": None, "added_tokens": bl_added,
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(QWEN2), byte_level]},
    "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
    "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
              "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
              "vocab": bl_vocab, "merges": bl_merges}})
write("qwen2/tokenizer_config.json", {"bos_token": None, "eos_token": "<|end_of_text|>"})

# OPT's layout: vocab.json + merges.txt with <s> <pad> </s> <unk> first, and
# a tokenizer_config.json that adds </s> as the BOS.
opt_vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
for b in range(256):
    opt_vocab[br[b]] = 4 + b
opt_vocab["He"] = len(opt_vocab)
write("opt/vocab.json", opt_vocab)
with open("opt/merges.txt", "w", encoding="utf-8") as f:
    f.write("#version: 0.2\nH e\n")
write("opt/tokenizer_config.json", {"add_bos_token": True, "bos_token": {"content": "</s>"},
                                    "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "</s>"})

# GPT-NeoX's layout: NFC, a ByteLevel pre-tokenizer, <|endoftext|> and
# <|padding|> first, and runs of spaces as added tokens that are not special
# (matched in the text before BPE).
neox_vocab = {"<|endoftext|>": 0, "<|padding|>": 1}
for b in range(256):
    neox_vocab[br[b]] = 2 + b
neox_merges = ["Ġ Ġ", "H e"]
for m in neox_merges:
    neox_vocab[m.replace(" ", "")] = len(neox_vocab)
spaces = [dict(added(len(neox_vocab) + i, " " * n), special=False, normalized=True) for i, n in enumerate([2, 4])]
write("neox/tokenizer.json", {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [added(0, "<|endoftext|>"), added(1, "<|padding|>")] + spaces,
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False, "vocab": neox_vocab, "merges": neox_merges}})
write("neox/tokenizer_config.json", {"add_bos_token": False, "bos_token": "<|endoftext|>",
                                     "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"})
