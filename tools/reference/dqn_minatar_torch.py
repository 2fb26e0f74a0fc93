"""PyTorch side of bench/dqn.ts: MinAtar's DQN (Young & Tian 2019, examples/dqn.py settings) trained on
MinAtar Breakout, the same loop as papers/2013-dqn/train.ts, timed over a window after the replay
start so that every frame is an environment step, an epsilon-greedy action and one minibatch update.

The game is tools/reference/minatar_breakout.py, a port of OUR TypeScript Breakout (so both sides
play the same game; MinAtar's own code is not used). The loop, step for step as train.ts:
  epsilon-greedy action with the online network (Mnih et al. 2013, Algorithm 1), one environment
  step, the transition into a 100k circular replay buffer (observations stored as uint8, s and s'
  separately), and once step > learningStarts a batch of 32 drawn without replacement, the Huber TD
  loss against the target network, and one centered RMSprop step (lr 2.5e-4, alpha 0.95, eps 0.01);
  the target network is copied every 1000 steps; each episode starts from a seed derived from its
  index.

Prints one JSON line: the versions, the environment's own steps/s (uniform random actions, reset
on terminal, an observation built every step) and the training window's frames/s.

    /usr/bin/python3 tools/reference/dqn_minatar_torch.py                 # 2 threads, 5,200 + 2,000 frames
    /usr/bin/python3 tools/reference/dqn_minatar_torch.py --threads 1 --warmup 5200 --frames 500
    /usr/bin/python3 tools/reference/dqn_minatar_torch.py --config '{"epsilonSteps": 1}'
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minatar_breakout import BreakoutEnv  # noqa: E402

# papers/2013-dqn/config.ts, preset `breakout` (MinAtar examples/dqn.py); --config overrides any of them.
PRESET = {
    "seed": 1,
    "bufferSize": 100_000,
    "batchSize": 32,
    "learningStarts": 5_000,
    "trainFrequency": 1,
    "targetUpdateFrequency": 1_000,
    "gamma": 0.99,
    "epsilonStart": 1.0,
    "epsilonEnd": 0.1,
    "epsilonBegin": 5_000,
    "epsilonSteps": 100_000,
    "lr": 2.5e-4,
    "alpha": 0.95,
    "eps": 0.01,
    "stickyActionProb": 0.1,
    "logEvery": 1_000,
}


class QNetwork(nn.Module):
    """MinAtar's network (papers/2013-dqn/model.ts MinAtarQNetwork): conv 16 3x3 valid, FC 128, one output per action.
    The same as bench/models_torch.py's, repeated so that this script stands alone (that one sets its
    thread count from argv when imported)."""

    def __init__(self, in_channels=4, num_actions=6):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 16, 3, stride=1)
        self.fc_hidden = nn.Linear(16 * 8 * 8, 128)
        self.output = nn.Linear(128, num_actions)

    def forward(self, x):
        x = F.relu(self.conv(x))  # [B, 16, 8, 8]
        return self.output(F.relu(self.fc_hidden(x.view(x.size(0), -1))))  # [B, actions]


class ReplayBuffer:
    """src/rl/replay-buffer.ts: circular, uint8 observations, uniform sampling without replacement."""

    def __init__(self, capacity, shape):
        self.capacity = capacity
        self.obs = np.zeros((capacity, *shape), dtype=np.uint8)
        self.next_obs = np.zeros((capacity, *shape), dtype=np.uint8)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.position = 0
        self.size = 0

    def add(self, obs, action, reward, next_obs, terminated):
        i = self.position
        self.obs[i] = obs
        self.next_obs[i] = next_obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.terminated[i] = terminated
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size, rng):
        seen, idx = set(), []
        while len(idx) < batch_size:  # rejection, as ours
            i = int(rng.random() * self.size)
            if i not in seen:
                seen.add(i)
                idx.append(i)
        return (torch.from_numpy(self.obs[idx]).float(), torch.from_numpy(self.actions[idx]),
                torch.from_numpy(self.rewards[idx]), torch.from_numpy(self.next_obs[idx]).float(),
                torch.from_numpy(self.terminated[idx]))


def linear_schedule(start, end, begin, duration, step):
    """papers/2013-dqn/model.ts linearSchedule."""
    if step <= begin:
        return start
    if duration <= 0 or step >= begin + duration:
        return end
    return start + (end - start) * (step - begin) / duration


def select_action(net, obs, num_actions, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.random() * num_actions)
    with torch.no_grad():
        return net(torch.from_numpy(obs).unsqueeze(0)).argmax(1).item()


def env_steps_per_second(steps, seed):
    """The Python environment alone: uniform random actions, reset on terminal, and the observation
    written out every step (into one reused array, as bench/dqn.ts times ours)."""
    rng = random.Random(seed)
    env = BreakoutEnv(random.Random(seed), 0.1)
    observation = np.zeros(env.shape, dtype=np.float32)
    t0 = time.perf_counter()
    for _ in range(steps):
        _, done = env.act(int(rng.random() * 6))
        if done:
            env.reset()
        env.game.write_state(observation)
    return steps / (time.perf_counter() - t0)


def train_window(c, warmup, frames):
    """Runs the DQN loop for warmup + frames steps and times the last `frames` of them."""
    seed = c["seed"]
    torch.manual_seed(seed)
    rng = random.Random(seed)  # exploration and replay sampling
    env_rng = random.Random(seed)
    env = BreakoutEnv(env_rng, c["stickyActionProb"])
    buffer = ReplayBuffer(c["bufferSize"], env.shape)
    online, target = QNetwork(4, env.num_actions), QNetwork(4, env.num_actions)
    target.load_state_dict(online.state_dict())
    optimizer = torch.optim.RMSprop(online.parameters(), lr=c["lr"], alpha=c["alpha"], eps=c["eps"], centered=True)

    step, episode, updates = 0, 0, 0
    env_rng.seed(seed * 2 ** 32 + episode)
    env.reset()
    obs = env.observation()
    t0 = c0 = None
    while step <= warmup + frames:
        epsilon = linear_schedule(c["epsilonStart"], c["epsilonEnd"], c["epsilonBegin"], c["epsilonSteps"], step)
        action = select_action(online, obs, env.num_actions, epsilon, rng)
        reward, terminated = env.act(action)
        next_obs = env.observation()
        buffer.add(obs, action, reward, next_obs, terminated)
        if step > c["learningStarts"] and buffer.size >= c["batchSize"] and step % c["trainFrequency"] == 0:
            s, a, r, s2, term = buffer.sample(c["batchSize"], rng)
            with torch.no_grad():
                next_max = target(s2).amax(1)  # [B]
            y = r + c["gamma"] * (1 - term) * next_max  # [B]
            q = online(s).gather(1, a.view(-1, 1)).view(-1)  # [B]
            loss = F.smooth_l1_loss(q, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            updates += 1
            if step % c["logEvery"] == 0:
                loss.item()
        if step > c["learningStarts"] and step % c["targetUpdateFrequency"] == 0:
            target.load_state_dict(online.state_dict())
        # The window runs from the end of step `warmup` to the end of step warmup + frames, as bench/dqn.ts times ours.
        if step == warmup:
            t0, c0 = time.perf_counter(), time.process_time()
        step += 1
        obs = next_obs
        if terminated:
            episode += 1
            env_rng.seed(seed * 2 ** 32 + episode)
            env.reset()
            obs = env.observation()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"frames": frames, "seconds": seconds, "cpu_seconds": cpu, "frames_per_second": frames / seconds,
            "episodes": episode, "updates": updates}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (1 or 2)")
    p.add_argument("--warmup", type=int, default=5_200, help="steps before the timed window (after learningStarts)")
    p.add_argument("--frames", type=int, default=2_000, help="frames in the timed window")
    p.add_argument("--env-steps", type=int, default=20_000, help="steps for the environment-only timing (0: skip)")
    p.add_argument("--config", default="{}", help="JSON overrides of the breakout preset's settings")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    c = {**PRESET, **json.loads(args.config)}
    if args.warmup <= c["learningStarts"]:
        sys.exit(f"--warmup must exceed learningStarts ({c['learningStarts']}) so that every timed frame updates")
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "python": sys.version.split()[0],
           "numpy": np.__version__, "config": c}
    if args.env_steps > 0:
        out["env_steps_per_second"] = env_steps_per_second(args.env_steps, c["seed"])
    if args.frames > 0:
        out["train"] = train_window(c, args.warmup, args.frames)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
