// Reference tokenization for formats/tokenizer's differential tests.
//
// Usage: node reference.cjs STRINGS.json > OUT.json
// Reads a JSON array of strings and writes, for each, GPT-2's token ids from
// the gpt-3-encoder package's own encoder, cl100k_base's ids from
// js-tiktoken (special tokens in the text encoded as text), and the pieces
// of the GPT-2, LLaMA-3 and Qwen2 pre-tokenization regexes, matched by V8's
// regex engine (which, unlike Go's, has lookahead).
//
// Usage: node reference.cjs --cl100k-vocab > OUT.json
// Writes cl100k_base's vocabulary: [rank, base64 of the token's bytes] pairs.
'use strict'
const fs = require('fs')
const { encode } = require('gpt-3-encoder')
const { Tiktoken } = require('js-tiktoken/lite')
const cl100k = new Tiktoken(require('js-tiktoken/ranks/cl100k_base'))

function cl100kVocab() {
  const vocab = []
  for (const [rank, bytes] of cl100k.textMap) vocab.push([rank, Buffer.from(bytes).toString('base64')])
  return vocab
}

// JavaScript's \s differs from Unicode White_Space (what the Rust, Oniguruma
// and Python regex engines of the real tokenizers use) in two code points:
// it adds U+FEFF and lacks U+0085. The split patterns spell White_Space out.
const S = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'

// V8 lacks (?i:...) groups: each contraction letter becomes the class of
// the characters that match it case-insensitively in V8 itself.
function foldClass(c) {
  const re = new RegExp('^' + c + '$', 'iu')
  let out = ''
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue
    const ch = String.fromCodePoint(cp)
    if (re.test(ch)) out += ch
  }
  return '[' + out + ']'
}
const ci = w => "'" + [...w].map(foldClass).join('')
const contractionsCI = '(?:' + ['s', 't', 're', 've', 'm', 'll', 'd'].map(ci).join('|') + ')'

const patterns = {
  gpt2: `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${S}\\p{L}\\p{N}]+|[${S}]+(?![^${S}])|[${S}]+`,
  llama3: `${contractionsCI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^${S}\\p{L}\\p{N}]+[\\r\\n]*|[${S}]*[\\r\\n]+|[${S}]+(?![^${S}])|[${S}]+`,
  qwen2: `${contractionsCI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^${S}\\p{L}\\p{N}]+[\\r\\n]*|[${S}]*[\\r\\n]+|[${S}]+(?![^${S}])|[${S}]+`,
}

function reference(path) {
  const strings = JSON.parse(fs.readFileSync(path, 'utf-8'))
  const out = { gpt2_ids: strings.map(s => encode(s)), cl100k_ids: strings.map(s => cl100k.encode(s, [], [])), splits: {} }
  for (const [name, src] of Object.entries(patterns)) {
    const re = new RegExp(src, 'gu')
    out.splits[name] = strings.map(s => Array.from(s.matchAll(re), m => m[0]))
  }
  return out
}

// stdout is a pipe: let Node flush it rather than calling process.exit.
const result = process.argv[2] === '--cl100k-vocab' ? cl100kVocab() : reference(process.argv[2])
process.stdout.write(JSON.stringify(result))
