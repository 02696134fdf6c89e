import { describe, expect, it } from 'vitest';
import {
  BASELINE,
  CASES,
  CONNECTION_SWEEP,
  caseById,
  DEFAULT_SERVER,
  FRAMED_TIME_CASE,
  HOLD_TARGETS,
  ONE_CONNECTION_CASE,
  POOL_SIZES_CASE,
  SEED_WIRE_CASE,
  TARGETS,
  targetsInRound,
} from './compare-cases.ts';

describe('CASES', () => {
  it('has unique ids and labels, each on known targets', () => {
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
    expect(new Set(CASES.map((c) => c.label)).size).toBe(CASES.length);
    for (const c of CASES) {
      expect(c.targets.length).toBeGreaterThan(0);
      for (const key of c.targets) expect(Object.keys(TARGETS)).toContain(key);
    }
    expect(HOLD_TARGETS.every((key) => key in TARGETS)).toBe(true);
  });

  it('runs in the order the results file has always listed them', () => {
    expect(CASES.map((c) => c.id)).toEqual([
      'c1',
      'c10',
      'c50',
      'c200',
      'c1000',
      'p16',
      'time50',
      'seed50',
      'metrics50',
    ]);
  });

  it('puts the real server beside the baseline except on the seed wire, which the baseline lacks, and the metrics case, which compares the server with itself', () => {
    for (const c of CASES) {
      expect(c.targets[0]).toBe(DEFAULT_SERVER);
      expect(c.targets.includes(BASELINE)).toBe(c.wire === 'framed' && c.id !== 'metrics50');
    }
    expect(SEED_WIRE_CASE).toMatchObject({ wire: 'seed', command: 'TIME', pipeline: 1 });
  });
});

describe('the cases the report is built on', () => {
  it('sweeps PING connections upwards, one request in flight each', () => {
    expect(CONNECTION_SWEEP.map((c) => c.connections)).toEqual([1, 10, 50, 200, 1000]);
    for (const c of CONNECTION_SWEEP) {
      expect(c).toMatchObject({ wire: 'framed', command: 'PING', pipeline: 1 });
    }
  });

  it('runs every pool size, and the baseline, at 50 connections', () => {
    expect(POOL_SIZES_CASE.connections).toBe(50);
    expect(POOL_SIZES_CASE.targets).toEqual(['t32', 't1', 't2', 't4', 't0', 'baseline']);
    expect(ONE_CONNECTION_CASE.connections).toBe(1);
  });

  it('compares the wires under the same load', () => {
    const {
      id: _seed,
      label: _seedLabel,
      targets: _s,
      wire: seedWire,
      ...seedLoad
    } = SEED_WIRE_CASE;
    const {
      id: _time,
      label: _timeLabel,
      targets: _t,
      wire: timeWire,
      ...timeLoad
    } = FRAMED_TIME_CASE;
    expect([seedWire, timeWire]).toEqual(['seed', 'framed']);
    expect(seedLoad).toEqual(timeLoad);
  });

  it('finds a case by id', () => {
    expect(caseById('p16')).toMatchObject({ connections: 50, pipeline: 16 });
  });
});

describe('targetsInRound', () => {
  it('rotates the targets by one every round', () => {
    const c50 = caseById('c50');
    expect(targetsInRound(c50, 1)).toEqual(['t32', 't1', 't2', 't4', 't0', 'baseline']);
    expect(targetsInRound(c50, 2)).toEqual(['t1', 't2', 't4', 't0', 'baseline', 't32']);
    expect(targetsInRound(c50, 7)).toEqual(targetsInRound(c50, 1));
    expect(targetsInRound(caseById('c1'), 2)).toEqual(['baseline', 't32']);
    expect(targetsInRound(SEED_WIRE_CASE, 3)).toEqual(['t32']);
  });
});
