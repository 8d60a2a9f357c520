"""Shared inputs for tools/gen_goldens.py (tokenizer strings and prompts).

Kept in one reviewable place; the golden JSON files record the reference outputs for these.
"""

# Plain tokenization (no BOS, special tokens NOT parsed: "<|im_start|>" is ordinary text here).
TOKENIZE = [
    "",
    " ",
    "  ",
    "   ",
    "\t",
    "\t\t",
    "\n",
    "\n\n",
    "\n\n\n",
    " \n",
    "\r\n",
    "Hello",
    " Hello",
    "Hello world",
    "Hello, world!",
    "hello   world",
    "  leading and trailing spaces  ",
    "tab\tseparated\tvalues",
    "line one\nline two\n\nline four",
    "The quick brown fox jumps over the lazy dog.",
    "What is the capital of France?",
    "I'm sure you've seen it; they'll say we'd done it. It's John's.",
    "DON'T SHOUT! I'M NOT SHOUTING",
    "UPPER lower MiXeD CamelCase snake_case kebab-case",
    "0",
    "7",
    "42",
    "123",
    "1234",
    "12345678901234567890",
    "3.14159 2.71828 -1e-10 +5",
    "Call 555-0123 or +1 (800) 555-0199 before 2024-12-31.",
    "version 1.2.3-rc4",
    "$100.00 and 50% off, 7/8 done",
    "café naïve résumé façade",
    "Ünïcödé äöü ß ÄÖÜ",
    "El niño comió jalapeños en España.",
    "Съешь же ещё этих мягких французских булок",
    "Γειά σου Κόσμε",
    "שלום עולם",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "你好，世界！",
    "我爱北京天安门",
    "日本語のテキストです。カタカナも。",
    "한국어 문장입니다",
    "ภาษาไทย",
    "Emoji: 😀😃😄 👍🏽 🇫🇷 👨‍👩‍👧‍👦",
    "🦙🤖🚀",
    "❤️ ✓ ✗ → ← ∞ ≠ ≤ ≥",
    "math: ∑_{i=1}^{n} x_i² = ∫ f(x) dx",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += v[i];\n}",
    "if x == 1 and y != 2: print(\"ok\")",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "<html><body><p class=\"x\">Hi</p></body></html>",
    "https://example.com/path?query=1&other=two#frag",
    "user@example.org",
    "    indented with four spaces",
    "\t\tindented with tabs",
    "trailing newline\n",
    "multiple   spaces    between     words",
    "punctuation!!! ??? ... ,,, ;;; ::: ---",
    "(parentheses) [brackets] {braces} <angles>",
    "a-b_c.d/e\\f|g~h`i",
    "<|im_start|>user\nhi<|im_end|>",
    "<|endoftext|>",
    "<s> </s> [INST] <bos>",
    "mixed 中文 and English 123 😀 text",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "the the the the the",
    "\u00a0non-breaking\u00a0space",
    "zero\u200bwidth\u200bspace",
    "combining e\u0301 vs \u00e9",
]

# Tokenization with special tokens parsed; BOS added per the model's metadata.
TOKENIZE_SPECIAL = [
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n",
    "Hello<|endoftext|>World",
    "<|im_end|><|im_end|>",
    "text before <|im_start|> and after",
    "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "<bos><eos>",
    "<s>[INST] hi [/INST]",
    "plain text without specials",
]

LONG_PROMPT = (
    "Once upon a time, in a small village nestled between rolling green hills and a wide, slow "
    "river, there lived an old clockmaker named Elias. Every morning he opened the wooden "
    "shutters of his workshop, brewed a pot of strong black coffee, and sat down at his bench "
    "among hundreds of ticking clocks. Children from the village often pressed their noses "
    "against the window to watch him work. One winter evening, a stranger in a long grey coat "
    "knocked on the door carrying a small brass box. \"Can you fix this?\" the stranger asked. "
    "Elias opened the box and found inside a clock unlike any he had ever seen: it had no hands, "
    "and instead of numbers, its face was covered with tiny stars. He looked up and said,")

# About 700 tokens: longer than Gemma 3's 512-token sliding window, which no other prompt
# reaches, so a window one position off changes the logits (gen_goldens.PAST_WINDOW_MODELS).
PAST_WINDOW_PROMPT = (
    "The lighthouse keeper's log, kept on the northern headland from the first storm of autumn "
    'until the thaw, begins with a list of chores: trim the wicks, wind the clockwork that '
    'turns the lens, polish the brass, and write down every ship that passes. On the first day '
    'he counted three fishing boats, a cargo steamer low in the water, and a sailing yacht '
    'that seemed to be lost. The wind came from the west at noon and from the north by '
    'evening, and the sea rose until the spray reached the lower windows of the tower.\n\nOn '
    'the second day the keeper found a gull with a broken wing on the rocks below the lamp '
    'room. He carried it up the spiral stairs in his coat, set the wing with two matches and a '
    'strip of linen, and fed it sardines from a tin. The bird bit him twice and then fell '
    'asleep on a folded blanket beside the stove. He named it Admiral, because it looked at '
    'him as if he were a junior officer who had forgotten to salute.\n\nBy the end of the '
    'first week the supply boat was late. The keeper rationed his coffee, baked bread from the '
    'last sack of flour, and counted the candles in the storeroom: forty-two tall ones, '
    'eighteen short ones, and a box of matches that had been soaked and dried so many times '
    'that only half of them would strike. He wrote in the log that the barometer had fallen to '
    'its lowest reading in eleven years, and that the Admiral had learned to knock on the '
    'window with its beak when it wanted to be let out onto the gallery.\n\nThe storm arrived '
    'on the ninth night. Waves climbed the cliff and broke against the tower with a sound like '
    'cannon fire, and the whole building trembled from the foundation to the weather vane. At '
    'two in the morning the clockwork that turned the lens stopped. The keeper climbed into '
    'the machinery with a lantern in his teeth and found a cracked gear, its teeth worn smooth '
    'on one side. He had no spare. For the rest of the night he turned the lens by hand, one '
    'full rotation every thirty seconds, counting aloud so that he would not lose the rhythm, '
    'while the Admiral watched him from the top of the oil cans.\n\nAt dawn he saw a small '
    'boat rowing toward the landing, rising and falling in the grey swell. In it sat the old '
    'clockmaker from the village, wrapped in oilskins, holding a brass box on his knees as if '
    'it were a sleeping child. He had heard, he said, that the light had stuttered in the '
    'night, and he had guessed what that meant. Inside the box, among wheels and springs of '
    'every size, was a gear with exactly the right number of teeth. The two men fitted it '
    'together, their hands black with grease, and when the lens began to turn again on its own '
    'the keeper laughed so loudly that the gull flew out of the window and circled the tower '
    'three times before it came back.\n\nLater, over the last of the coffee, the keeper asked '
    'the clockmaker how he had known which gear to bring. The old man smiled, took a folded '
    'paper from his pocket, and spread it on the table. It was a drawing of the lighthouse '
    'mechanism, dated forty years earlier and signed in a careful hand. "I built it," he said, '
    '"when I was younger than you are now. A clock never forgets the hands that made it, and '
    'neither do I." Then he looked out at the calm sea and said,')

PROMPTS = [
    "The capital of France is",
    "Once upon a time",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "1, 2, 3, 4, 5,",
    "Q: What is the boiling point of water in Celsius?\nA:",
    LONG_PROMPT,
]

# Chat-formatted prompts, only for models whose vocabulary has these control tokens.
CHAT_PROMPTS = {
    "<|im_start|>": "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                    "<|im_start|>assistant\n",
    "<start_of_turn>": "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n"
                       "<start_of_turn>model\n",
    "<|user|>": "<|user|>What is the capital of France?<|end|><|assistant|>",
}
