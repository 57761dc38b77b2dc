// The child side of child_stage.ts: receives one StageTask, rebuilds that
// stage from the preset and runs it with runStage, sending log lines,
// progress and the outcome (or the error) back. SIGINT/SIGTERM abort the
// stage as in the CLI (a checkpoint at the next step); so does the parent
// going away, so a killed `reproduce` leaves no orphan training on; and so
// does reaching ROBUSTOK_STOP_AT's step (stop_at.ts).
import { abortOnSignals } from '../runs/index.js';
import type { StageMessage, StageTask } from './child_stage.js';
import { stageAt } from './graph.js';
import { layerConfigs } from './layer_configs.js';
import { runStage } from './runner.js';
import { parseStopAt, stopWhenReached } from './stop_at.js';

const send = (m: StageMessage) => { if (process.connected) process.send!(m); };

process.once('message', (task: StageTask) => {
  const controller = new AbortController();
  abortOnSignals(controller);
  process.on('disconnect', () => controller.abort('SIGTERM'));
  const run = async () => {
    const stopAt = stopWhenReached(parseStopAt(process.env.ROBUSTOK_STOP_AT), controller);
    const f = { dir: task.dir, config: task.preset.config, layers: layerConfigs(task.preset) };
    const spec = stageAt(f, task.kind, task.name, task.seed);
    return runStage(spec, {
      signal: controller.signal,
      log: (message) => send({ type: 'log', message }),
      progress: (event) => {
        stopAt(event);  // before the parent hears of this step, so its own stop cannot come first
        send({ type: 'progress', event });
      },
    }, task.device);
  };
  run().then((outcome) => send({ type: 'outcome', outcome }), (error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }).finally(() => { if (process.connected) process.disconnect(); });
});
