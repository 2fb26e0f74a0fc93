/**
 * Reading and writing tokenizer files on disk (Node only; the tokenizers themselves work on strings).
 * Writes go to a temporary file that is then renamed into place, so a crash never leaves half a file.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CharTokenizer } from './char-tokenizer.js';
import { Gpt2Tokenizer, type Gpt2TokenizerOptions } from './gpt2-tokenizer.js';

/** Writes `text` to `path` through a temporary file and a rename. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, 'utf8');
  renameSync(tmp, path);
}

/** Reads a text file, naming it in the error if that fails. */
function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${what}: cannot read ${path} (${(e as Error).message})`);
  }
}

/** Saves a character tokenizer as JSON (see CharTokenizerJSON). */
export function saveCharTokenizer(tokenizer: CharTokenizer, path: string): void {
  writeAtomic(path, JSON.stringify(tokenizer.toJSON()) + '\n');
}

/** Loads a character tokenizer saved by saveCharTokenizer. */
export function loadCharTokenizer(path: string): CharTokenizer {
  return CharTokenizer.fromJSON(readText(path, 'loadCharTokenizer'));
}

/**
 * Loads a GPT-2 tokenizer from a folder holding vocab.json (or encoder.json, its name in openai/gpt-2)
 * and merges.txt (or vocab.bpe).
 */
export function loadGpt2Tokenizer(dir: string, options: Gpt2TokenizerOptions = {}): Gpt2Tokenizer {
  const pick = (names: string[]) => {
    for (const name of names) {
      try {
        return { name, text: readFileSync(join(dir, name), 'utf8') };
      } catch {
        // try the next name
      }
    }
    throw new Error(`loadGpt2Tokenizer: ${dir} has none of ${names.join(', ')}`);
  };
  const vocab = pick(['vocab.json', 'encoder.json']);
  const merges = pick(['merges.txt', 'vocab.bpe']);
  try {
    return Gpt2Tokenizer.fromFiles({ vocabJson: vocab.text, mergesTxt: merges.text }, options);
  } catch (e) {
    throw new Error(`loadGpt2Tokenizer(${dir}, ${vocab.name} + ${merges.name}): ${(e as Error).message}`);
  }
}

/** Writes vocab.json and merges.txt into `dir` (which must exist). */
export function saveGpt2Tokenizer(tokenizer: Gpt2Tokenizer, dir: string): void {
  const { vocabJson, mergesTxt } = tokenizer.toFiles();
  writeAtomic(join(dir, 'vocab.json'), vocabJson);
  writeAtomic(join(dir, 'merges.txt'), mergesTxt);
}
