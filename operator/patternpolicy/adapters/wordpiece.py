"""A pure-Python BERT WordPiece tokenizer that reads a Hugging Face `tokenizer.json`.

It reproduces what the `tokenizers` package does for BERT-style models
(BertNormalizer, BertPreTokenizer, WordPiece, [CLS] ... [SEP]) so that the
operator needs neither `tokenizers` nor its hub dependencies at run time; the
unit tests compare it with `tokenizers` where that package is installed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The ranges the original BERT code treats as CJK ideographs (each gets split off as its own word).
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)


# ASCII fast path (most Kubernetes text): control characters go, tab and newlines become spaces,
# and every printable non-alphanumeric ASCII character is punctuation to BERT.
_ASCII_CLEAN = {c: None for c in (*range(32), 127)} | {ord("\t"): " ", ord("\n"): " ", ord("\r"): " "}
_ASCII_WORDS = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9 ]")


def _is_cjk(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or ch.isspace()


def _is_control(ch: str) -> bool:
    # Tab and newlines are control characters that BERT counts as whitespace; unassigned
    # code points (Cn) are kept, as the Rust tokenizer does.
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")


def _is_punctuation(ch: str) -> bool:
    # ASCII symbols like $ + < = > ^ ` | ~ are not Unicode "P*" but BERT splits on them too.
    code = ord(ch)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


@dataclass(frozen=True)
class Encoding:
    ids: list[int]  # with [CLS] and [SEP], truncated to the model's length


class WordPieceTokenizer:
    """BERT uncased tokenization: normalise, split on whitespace and punctuation, WordPiece."""

    def __init__(self, vocab: dict[str, int], *, lowercase: bool = True, strip_accents: bool | None = None,
                 clean_text: bool = True, handle_chinese_chars: bool = True, unk_token: str = "[UNK]",
                 prefix: str = "##", max_input_chars_per_word: int = 100,
                 added_tokens: dict[str, int] | None = None) -> None:
        self.vocab = vocab
        # Special tokens written literally in the text ("[SEP]") map to their ids, as in `tokenizers`.
        self.added_tokens = dict(added_tokens or {})
        self._added_re = (re.compile("(" + "|".join(re.escape(t) for t in sorted(self.added_tokens, key=len,
                                                                                  reverse=True)) + ")")
                          if self.added_tokens else None)
        self.lowercase = lowercase
        # tokenizers' rule: accents are stripped when unset and lowercasing is on.
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.unk_id = vocab[unk_token]
        self.prefix = prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self.cls_id = vocab["[CLS]"]
        self.sep_id = vocab["[SEP]"]
        self.pad_id = vocab.get("[PAD]", 0)
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        model = spec["model"]
        if model.get("type") != "WordPiece":
            raise ValueError(f"{path}: expected a WordPiece model, found {model.get('type')!r}")
        norm = spec.get("normalizer") or {}
        if norm and norm.get("type") != "BertNormalizer":
            raise ValueError(f"{path}: expected a BertNormalizer, found {norm.get('type')!r}")
        return cls(
            {str(k): int(v) for k, v in model["vocab"].items()},
            lowercase=bool(norm.get("lowercase", True)),
            strip_accents=norm.get("strip_accents"),
            clean_text=bool(norm.get("clean_text", True)),
            handle_chinese_chars=bool(norm.get("handle_chinese_chars", True)),
            unk_token=str(model.get("unk_token", "[UNK]")),
            prefix=str(model.get("continuing_subword_prefix", "##")),
            max_input_chars_per_word=int(model.get("max_input_chars_per_word", 100)),
            added_tokens={str(t["content"]): int(t["id"]) for t in spec.get("added_tokens", [])
                          if not t.get("normalized", False)},
        )

    def normalize(self, text: str) -> str:
        if text.isascii() and self.clean_text:
            cleaned = text.translate(_ASCII_CLEAN)
            return cleaned.lower() if self.lowercase else cleaned
        chars: list[str] = []
        for ch in text:
            code = ord(ch)
            if self.clean_text:
                if code == 0 or code == 0xFFFD or _is_control(ch):
                    continue
                if _is_whitespace(ch):
                    ch = " "
            if self.handle_chinese_chars and _is_cjk(code):
                chars.extend((" ", ch, " "))
            else:
                chars.append(ch)
        out = "".join(chars)
        if self.strip_accents:
            out = "".join(c for c in unicodedata.normalize("NFD", out) if unicodedata.category(c) != "Mn")
        return out.lower() if self.lowercase else out

    @staticmethod
    def pre_tokenize(text: str) -> list[str]:
        if text.isascii() and not any(c in text for c in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"):
            return _ASCII_WORDS.findall(text)
        words: list[str] = []
        current: list[str] = []
        for ch in text:
            if _is_whitespace(ch):
                if current:
                    words.append("".join(current))
                    current = []
            elif _is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
        return words

    def _word_ids(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids: list[int] = []
        if len(word) > self.max_input_chars_per_word:
            ids = [self.unk_id]
        else:
            start = 0
            while start < len(word):
                end = len(word)
                found = -1
                while start < end:  # greedy longest match first
                    piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                    found = self.vocab.get(piece, -1)
                    if found >= 0:
                        break
                    end -= 1
                if found < 0:
                    ids = [self.unk_id]  # one unknown piece makes the whole word unknown
                    break
                ids.append(found)
                start = end
        if len(self._cache) < 200_000:
            self._cache[word] = ids
        return ids

    def encode(self, text: str, max_length: int) -> Encoding:
        body: list[int] = []
        limit = max_length - 2  # room for [CLS] and [SEP]
        parts = self._added_re.split(text) if self._added_re else [text]
        for i, part in enumerate(parts):
            if i % 2:  # odd parts are the separators the split captured: literal special tokens
                body.append(self.added_tokens[part])
                continue
            for word in self.pre_tokenize(self.normalize(part)):
                body.extend(self._word_ids(word))
                if len(body) >= limit:
                    break
            if len(body) >= limit:
                break
        return Encoding([self.cls_id, *body[:limit], self.sep_id])
