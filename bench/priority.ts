// Priority latency: the `preemption` scenario, and 50 mixed-priority messages queued over ten minutes on a
// 2400 bit/s HF link, each in priority and in FIFO mode; latency (queued to the peer's custody) per level.
import path from 'node:path';
import { runScenario, runScenarioFile, type LatencyStats } from '../sim/run-scenario.ts';
import { parseScenario } from '../sim/scenario.ts';
import { simBundle } from '../sim/sim-bundle.ts';

export interface PriorityRun {
  scenario: string;
  scheduler: 'priority' | 'fifo';
  delivered: number;
  messages: number;
  seconds: number;
  latencyByPriority: Record<string, LatencyStats>;
}

export const MIXED = parseScenario(
  {
    name: 'mixed-50',
    description: '50 messages of 0.5-20 KB, priorities -2 (60 %), 0 (25 %), 2 (10 %), 4 (5 %), one every 12 s, over a 2400 bit/s half-duplex HF modem',
    seed: 1,
    link: { bitRate: 2400, turnaroundMs: 1500, propagationMs: 10, duplex: 'half', ber: 0, frameSize: 1024, window: 256, overMs: 30000 },
    messages: {
      generate: {
        count: 50,
        sizeBytes: { min: 500, max: 20000 },
        priorities: [
          { value: -2, weight: 12 },
          { value: 0, weight: 5 },
          { value: 2, weight: 2 },
          { value: 4, weight: 1 },
        ],
        spacingMs: 12000,
      },
    },
    timeLimitS: 36000,
  },
  'mixed-50',
);

export async function measurePriority(root: string): Promise<PriorityRun[]> {
  const runs: PriorityRun[] = [];
  for (const scheduler of ['priority', 'fifo'] as const) {
    for (const which of ['preemption', 'mixed-50'] as const) {
      const r = which === 'preemption' ? await runScenarioFile(path.join(root, 'sim', 'scenarios', 'preemption.yaml'), { seed: 7, scheduler, bundle: simBundle }) : await runScenario(MIXED, { seed: 7, scheduler, bundle: simBundle });
      runs.push({ scenario: r.scenario, scheduler, delivered: r.delivered, messages: r.messages, seconds: r.simulatedSeconds, latencyByPriority: r.latencyByPriority });
    }
  }
  return runs;
}
