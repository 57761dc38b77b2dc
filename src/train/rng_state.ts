// A random stream's position as a checkpoint part: everything a trainer draws
// (data augmentation, perturbation, DiffAugment) comes from one seeded
// RandomStream (a torch.Generator), and saving its state is what makes a resumed run draw
// exactly what the uninterrupted run would have drawn.
import type { Stateful, TrainState } from '../optim/index.js';
import { RandomStream, type Tensor, getRngState, setRngState } from '../torch/index.js';

/** Checkpoints written before this part had its own name called it 'Generator' (the stream's old class name); both are read. */
const KINDS = ['RngState', 'Generator'];

export class RngState implements Stateful {
  #snapshot: Tensor | null = null;
  readonly stream: RandomStream;

  constructor(seed: number) {
    this.stream = new RandomStream(seed);
  }

  stateDict(): TrainState {
    this.#snapshot?.dispose();
    this.#snapshot = getRngState(this.stream).keep();
    return { tensors: { state: this.#snapshot }, meta: { kind: 'RngState' } };
  }

  loadStateDict(state: TrainState): void {
    if (!KINDS.includes(String(state.meta.kind)) || !state.tensors.state) {
      throw new Error(`RngState.loadStateDict: not a random-stream state (kind ${JSON.stringify(state.meta.kind)})`);
    }
    setRngState(state.tensors.state, this.stream);
  }

  dispose(): void {
    this.#snapshot?.dispose();
  }
}
