// A trained generator with the decoder its samples go through: the tokenizer
// it was trained on, or another one given explicitly (`--tokenizer`, e.g. the
// same tokenizer after post-training). Tokens only mean the same to a
// decoder with the same codebook, so any other is refused here, before a
// single token is drawn.
import { type ArGenerator, type GeneratorInfo, type Sampling, codebookFingerprint, loadGenerator } from '../generator/index.js';
import { type Tokenizer, openTokenizer } from '../tokenizer/index.js';

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
  const K = tokenizer.options.codebookSize;
  const problem = K !== model.options.vocabSize
    ? `has ${K} codes but the generator was trained on ${model.options.vocabSize}`
    : codebookFingerprint(tokenizer) !== info.codebook
      ? 'has a different codebook from the tokenizer the generator was trained on (its tokens would decode to other images)'
      : null;
  if (problem) {
    tokenizer.dispose();
    model.dispose();
    throw new Error(`tokenizer ${dir} ${problem}; use a decoder of the same codebook (e.g. that tokenizer post-trained)`);
  }
  return { model, info, tokenizer, tokenizerDir: dir, dispose: () => { tokenizer.dispose(); model.dispose(); } };
}

/** The generator's default sampling settings with the given ones on top (undefined = keep). */
export function samplingWith(defaults: Sampling, overrides: Partial<Sampling>): Sampling {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...defaults, ...set };
}
