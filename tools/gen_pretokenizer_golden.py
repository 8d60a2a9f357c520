#!/usr/bin/env python3
"""Golden word splits for the BPE pre-tokenizers, from Hugging Face `tokenizers`.

Each pre-tokenizer is the Sequence of Split(regex, behavior="isolated") that the models'
tokenizer.json files (and llama.cpp's llama-vocab.cpp regex lists) use, run by the Rust
`tokenizers` library (Oniguruma regexes) - an implementation independent of ours.
Inputs: the llama.cpp test strings plus edge cases and seeded random strings.

Output (tests/data/tokenizer/pretokenizer_golden.tsv), one line per (name, input):
    NAME <TAB> hex(input utf-8) <TAB> hex(word1) hex(word2) ...
NAME is a tokenizer.ggml.pre value. Usage: python3 tools/gen_pretokenizer_golden.py
"""
import random
from pathlib import Path

from tokenizers import Regex, pre_tokenizers

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/data/tokenizer/pretokenizer_golden.tsv"
FIXTURE_INP = ROOT / "tests/data/tokenizer/ggml-vocab-gpt-2.gguf.inp"

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
         r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
GPT4O = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
         r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
         r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"
         r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
         r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def char_class(ranges):
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


# deepseek-llm's letter class (llama-vocab.cpp), as code point ranges.
DS_LETTERS = [
    (0x41, 0x5A), (0x61, 0x7A), (0xB5, 0xB5), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x1BA),
    (0x1BC, 0x1BF), (0x1C4, 0x293), (0x295, 0x2AF), (0x370, 0x373), (0x376, 0x377),
    (0x37B, 0x37D), (0x37F, 0x37F), (0x386, 0x386), (0x388, 0x38A), (0x38C, 0x38C),
    (0x38E, 0x3A1), (0x3A3, 0x3F5), (0x3F7, 0x481), (0x48A, 0x52F), (0x531, 0x556),
    (0x10A0, 0x10C5), (0x13A0, 0x13F5), (0x13F8, 0x13FD), (0x1C90, 0x1CBA), (0x1CBD, 0x1CBF),
    (0x1D00, 0x1D2B), (0x1D6B, 0x1D77), (0x1D79, 0x1D9A), (0x1E00, 0x1F15), (0x1F18, 0x1F1D),
    (0x1F20, 0x1F45), (0x1F48, 0x1F4D), (0x1F50, 0x1F57), (0x1F59, 0x1F59), (0x1F5B, 0x1F5B),
    (0x1F5D, 0x1F5D), (0x1F5F, 0x1F7D), (0x1F80, 0x1FB4), (0x1FB6, 0x1FBC), (0x1FBE, 0x1FBE),
    (0x1FC2, 0x1FC4), (0x1FC6, 0x1FCC), (0x1FD0, 0x1FD3), (0x1FD6, 0x1FDB), (0x1FE0, 0x1FEC),
    (0x1FF2, 0x1FF4), (0x1FF6, 0x1FFC), (0x2102, 0x2102), (0x2107, 0x2107), (0x210A, 0x2113),
    (0x2115, 0x2115), (0x2119, 0x211D), (0x2124, 0x2124), (0x2126, 0x2126), (0x2128, 0x2128),
    (0x212A, 0x212D), (0x212F, 0x2134), (0x2139, 0x2139), (0x213C, 0x213F), (0x2145, 0x2149),
    (0x214E, 0x214E), (0x2183, 0x2184), (0x2C00, 0x2C7B), (0x2C7E, 0x2CE4), (0x2CEB, 0x2CEE),
    (0x2CF2, 0x2CF3), (0xA640, 0xA66D), (0xA680, 0xA69B), (0xA722, 0xA76F), (0xA771, 0xA787),
    (0xA78B, 0xA78E), (0xAB70, 0xABBF), (0xFB00, 0xFB06), (0xFB13, 0xFB17), (0xFF21, 0xFF3A),
    (0xFF41, 0xFF5A), (0x10400, 0x1044F), (0x104B0, 0x104D3), (0x104D8, 0x104FB),
    (0x10C80, 0x10CB2), (0x10CC0, 0x10CF2), (0x118A0, 0x118DF), (0x1E900, 0x1E943),
]
DS_PUNCT = [(0x21, 0x2F), (0x3A, 0x7E), (0xFF01, 0xFF0F), (0xFF1A, 0xFF5E), (0x2018, 0x201F),
            (0x3000, 0x3002)]
CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"

PRE_TOKENIZERS = {
    "gpt-2": [GPT2],
    "starcoder": [r"\p{N}", GPT2],
    "llama-bpe": [LLAMA3],
    "qwen2": [QWEN2],
    "gpt-4o": [GPT4O],
    "falcon": [r"[\p{P}\$\+<=>\^~\|`]+", GPT2, "[0-9][0-9][0-9]"],
    "default": [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", "[0-9][0-9][0-9]"],
    "deepseek-coder": ["[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", CJK, r"\p{N}"],
    "deepseek-llm": ["[\r\n]", r"\s?[" + char_class(DS_LETTERS) + "]+",
                     r"\s?[" + char_class(DS_PUNCT) + "]+", r"\s+$", CJK, r"\p{N}+"],
}

EDGE_CASES = [
    "I'm 'S 'LL 'Re we'VE it'd they'll", "HelloWORLDFoo camelCase XMLHttpRequest",
    "a\r\nb\r\n\r\n  c\n \n", "x  \t\n  y", "1234567 ٣٤٥٦ Ⅻ½", "e\u0301te\u0301 \u0301x",
    "\u00a0a\u3000b\u2028c\u0085d", "path/to/file.txt\n//comment/\n", "ǅemal ʰa ÀÉÎ ßẞ",
    "ＦＵＬＬ ｗｉｄｔｈ！？", "中文字符，한국어 テスト", "   ", " \n", "'", "''s", "a'", "\u200d\u200d",
    "$100+<=>^~|`x`", "...!!!???", "  leading and trailing  ", "tab\tsep\tvalues\t",
]

POOL = (list("abcxyzABCXYZ0189") + [" "] * 6 + list("\t\n\r'!?.,-/$+<=>^~|`\"()[]:;_@#%&*") +
        ["'s", "'S", "'ll", "'RE", "'ve", "'d", "'M"] +
        list("éÜßǅʰ中文한ア\u0301\u0903٣Ⅻ½\u00a0\u3000\u2028\u0085\u200d€©¿\u0600ΩKµｆㄱ") +
        ["🦙", "😀", "\U0001d400", "\U00010400"])


def main() -> None:
    inputs = FIXTURE_INP.read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")[:-1]
    inputs += EDGE_CASES
    rng = random.Random(1234)
    for _ in range(300):
        inputs.append("".join(rng.choice(POOL) for _ in range(rng.randint(1, 30))))
    lines = []
    for name, regexes in PRE_TOKENIZERS.items():
        pre = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(r), behavior="isolated") for r in regexes])
        for text in inputs:
            words = [w for w, _ in pre.pre_tokenize_str(text)]
            assert "".join(words) == text
            lines.append("\t".join([name, text.encode().hex(),
                                    " ".join(w.encode().hex() for w in words)]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}: {len(lines)} lines")


if __name__ == "__main__":
    main()
