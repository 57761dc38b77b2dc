// The reference training step: a tiny conv autoencoder (3→64→128→128 down,
// nearest-upsampled back to 3 channels) on one batch of 16×3×32×32, MSE,
// forward + backward + Adam. It is the step `npm run bench:engine` times
// against PyTorch (bench/engine_torch.py is its twin) and the one that
// `robustok info --bench` times as a machine's reference figure, so a time
// from one compares with a time from the other.
import { AdamW } from '../optim/index.js';
import { F, type Tensor, manualSeed, randn, tidy, zeros } from '../torch/index.js';

/** Conv weights as PyTorch initialises them: U(−1/√fan_in, 1/√fan_in). */
function conv(cin: number, cout: number, k: number): [Tensor, Tensor] {
  const bound = 1 / Math.sqrt(cin * k * k);
  const w = randn([cout, cin, k, k]).clamp(-2, 2).mul_(bound / 2).keep().requiresGrad_();
  return [w, zeros([cout]).keep().requiresGrad_()];
}

export interface ReferenceStep {
  /** Runs one training step; returns its wall time in ms. */
  step(): number;
  dispose(): void;
}

/** The reference step's model, optimizer and batch, seeded (seed 0). */
export function referenceConvStep(): ReferenceStep {
  manualSeed(0);
  const [e1, e2, e3, d1, d2, d3] = [conv(3, 64, 3), conv(64, 128, 4), conv(128, 128, 4), conv(128, 128, 3), conv(128, 64, 3), conv(64, 3, 3)];
  const params = [e1, e2, e3, d1, d2, d3].flat();
  const optimizer = new AdamW(params, { lr: 1e-3, weightDecay: 0 });  // = Adam
  const x = randn([16, 3, 32, 32]).keep();
  const up = (t: Tensor) => F.interpolate(t, { scaleFactor: 2, mode: 'nearest' });
  return {
    step: (): number => {
      const start = performance.now();
      tidy(() => {
        optimizer.zeroGrad();
        const z = F.conv2d(F.relu(F.conv2d(F.relu(F.conv2d(x, ...e1, { padding: 1 })), ...e2, { stride: 2, padding: 1 })), ...e3, { stride: 2, padding: 1 });
        const h = F.relu(F.conv2d(up(F.relu(F.conv2d(up(z), ...d1, { padding: 1 }))), ...d2, { padding: 1 }));
        F.mseLoss(F.conv2d(h, ...d3, { padding: 1 }), x).backward();
        optimizer.step();
      });
      return performance.now() - start;
    },
    dispose: () => {
      optimizer.dispose();
      for (const t of [...params, x]) t.dispose();
    },
  };
}
