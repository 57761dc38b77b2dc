"""The Python side of the protocol bench/twin_process.ts drives: a benchmark's
PyTorch twin, started as

    X_torch.py THREADS ... COMMANDS ANSWERS

prints "ready" on stdout once it is set up, then reads one command a line from
the named pipe COMMANDS and writes one answer line for each to the named pipe
ANSWERS, until "quit" (or any command it does not know). The Node side waits
on stdout for "ready" before it opens the pipes, so a twin that fails while
setting up is reported, not a hang on opening a pipe.

The twins run as `/usr/bin/python3 bench/X_torch.py ...`, so Python puts bench/
first on sys.path and `import twin_protocol` finds this file.
"""
import time


class TwinError(Exception):
    """A command the twin cannot do now: answered as "error: <message>", and the twin goes on."""


def serve(commands_path, answers_path, timed, untimed):
    """Answers commands until "quit".

    timed: command -> function run once per command; the answer is its
        wall time in milliseconds (time.perf_counter around the call).
    untimed: command -> function returning the answer line itself (e.g. JSON).
    """
    print("ready", flush=True)
    # Opened in the order the Node side opens them (commands, then answers): each open blocks until both ends are there.
    with open(commands_path) as commands, open(answers_path, "w") as answers:
        def answer(text):
            answers.write(f"{text}\n")
            answers.flush()

        for line in commands:
            command = line.strip()
            try:
                if command in timed:
                    run = timed[command]
                    start = time.perf_counter()
                    run()
                    answer((time.perf_counter() - start) * 1e3)
                elif command in untimed:
                    answer(untimed[command]())
                else:
                    break
            except TwinError as e:
                answer(f"error: {e}")
