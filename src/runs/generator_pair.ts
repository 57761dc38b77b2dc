// A trained generator with the decoder its samples go through: the tokenizer
// it was trained on, or another one given explicitly (`--tokenizer`, e.g. the
// same tokenizer after post-training). Tokens only mean the same to a
// decoder with the same codebook, so any other is refused here, before a
// single token is drawn.
import { type ArGenerator, type GeneratorInfo, type Sampling, codebookFingerprint, loadGenerator } from '../generator/index.js';
import { type Tokenizer, openTokenizer, parseTokenizerRef, readTokenizerLineage } from '../tokenizer/index.js';

export interface GeneratorPair {
  model: ArGenerator;
  info: GeneratorInfo;
  tokenizer: Tokenizer;
  /** The tokenizer in use: a folder or KIND:PATH. */
  tokenizerDir: string;
  dispose(): void;
}

export function loadGeneratorPair(generatorDir: string, tokenizerDir?: string): GeneratorPair {
  const { model, info } = loadGenerator(generatorDir);
  const dir = tokenizerDir ?? info.tokenizer;
  let tokenizer: Tokenizer;
  try {
    tokenizer = openTokenizer(dir).model;
  } catch (error) {
    model.dispose();
    const hint = tokenizerDir ? '' : ` (the tokenizer ${generatorDir} was trained on; pass --tokenizer DIR if it moved)`;
    throw new Error(`${error instanceof Error ? error.message : String(error)}${hint}`);
  }
  const parsed = parseTokenizerRef(dir);
  const problem = decoderMismatch(tokenizer, model, info, 'folder' in parsed ? readTokenizerLineage(parsed.folder)?.codebook : undefined);
  if (problem) {
    tokenizer.dispose();
    model.dispose();
    throw new Error(`tokenizer ${dir} ${problem}; use a decoder of the same codebook (e.g. that tokenizer post-trained)`);
  }
  return { model, info, tokenizer, tokenizerDir: dir, dispose: () => { tokenizer.dispose(); model.dispose(); } };
}

/**
 * Why `tokenizer` cannot decode the generator's tokens (another K, another
 * codebook), or null when it can. `lineageCodebook`: the codebook a
 * post-trained tokenizer's ids come from (tokenizer.json's lineage), which
 * may differ from its own after the round-trip variant moved the codes.
 */
export function decoderMismatch(tokenizer: Tokenizer, model: ArGenerator, info: GeneratorInfo, lineageCodebook?: string): string | null {
  const K = tokenizer.options.codebookSize;
  if (K !== model.options.vocabSize) return `has ${K} codes but the generator was trained on ${model.options.vocabSize}`;
  if (codebookFingerprint(tokenizer) !== info.codebook && lineageCodebook !== info.codebook) {
    return 'has a different codebook from the tokenizer the generator was trained on (its tokens would decode to other images)';
  }
  return null;
}

/** The generator's default sampling settings with the given ones on top (undefined = keep). */
export function samplingWith(defaults: Sampling, overrides: Partial<Sampling>): Sampling {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...defaults, ...set };
}
