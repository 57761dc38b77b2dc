// The environment of every process a test starts whose numbers it compares
// with another process's: libtorch's own count (ROBUSTOK_THREADS) and
// OpenMP's default for any other thread (OMP_NUM_THREADS) both 1, the same on
// every side. Unpinned, a child takes its count from the load it samples at
// start (src/torch/threads.ts), and a reduction split over 2 threads rounds
// differently from one over 1 (the tiny tokenizer's loss moves in its 8th
// digit by step 12 and further after), so the comparison would depend on what
// else the machine was doing (issue #23).
export const oneThreadEnv: NodeJS.ProcessEnv = { ...process.env, ROBUSTOK_THREADS: '1', OMP_NUM_THREADS: '1' };
