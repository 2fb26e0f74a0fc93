/**
 * Text: tokenizers that turn strings into token ids and back, and a BPE trainer.
 */
export { CharTokenizer, type CharTokenizerJSON } from './char-tokenizer.js';
export {
  Gpt2Tokenizer,
  END_OF_TEXT,
  MERGES_VERSION_LINE,
  parseVocabJson,
  parseMergesTxt,
  formatVocabJson,
  formatMergesTxt,
  type Gpt2TokenizerOptions,
  type EncodeOptions,
  type Gpt2TokenizerFiles,
} from './gpt2-tokenizer.js';
export { trainBpe, type BpeTrainerOptions, type BpeTrainResult } from './bpe-trainer.js';
export { bytesToUnicode, unicodeToBytes, gpt2ByteOrder, GPT2_SPLIT_PATTERN, preTokenize } from './byte-level.js';
export { utf8Encode, utf8Decode, REPLACEMENT_CHARACTER } from './utf8.js';
export { loadCharTokenizer, saveCharTokenizer, loadGpt2Tokenizer, saveGpt2Tokenizer } from './files.js';
