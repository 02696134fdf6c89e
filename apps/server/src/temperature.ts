import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TemperatureReading } from '@rtt/protocol';
import { NoSensorError } from './errors.ts';

export const TEMPERATURE_SOURCES = ['auto', 'sensor', 'simulated'] as const;
export type TemperatureSourceName = (typeof TEMPERATURE_SOURCES)[number];

/** Where TEMP answers come from. */
export interface TemperatureSource {
  /** `sensor <path>` or `simulated`, for the start-up log. */
  readonly description: string;
  readonly simulated: boolean;
  read(): TemperatureReading;
}

const SYSFS_ROOTS = ['/sys/class/thermal', '/sys/class/hwmon'];

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function readMillidegrees(path: string): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    // Sysfs reports millidegrees Celsius; anything outside this range is a broken driver.
    return Number.isFinite(value) && value > -60_000 && value < 150_000 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds a readable temperature file in sysfs (thermal zones, then hwmon), the same files
 * `sensors` reads: no dependency, nothing to install.
 */
export function findSensor(roots: readonly string[] = SYSFS_ROOTS): string | undefined {
  for (const root of roots) {
    for (const entry of listDir(root).sort()) {
      const dir = join(root, entry);
      const candidates = entry.startsWith('thermal_zone')
        ? ['temp']
        : listDir(dir)
            .filter((name) => /^temp\d+_input$/.test(name))
            .sort();
      for (const name of candidates) {
        const path = join(dir, name);
        if (readMillidegrees(path) !== undefined) return path;
      }
    }
  }
  return undefined;
}

/**
 * A simulated sensor: a slow random walk around room temperature, so consecutive readings
 * look like a real room rather than the seed's uniform -50..50 noise. Always marked as such.
 */
export function simulatedSensor(start = 21, random: () => number = Math.random): TemperatureSource {
  let celsius = start;
  return {
    description: 'simulated',
    simulated: true,
    read() {
      celsius = Math.min(35, Math.max(5, celsius + (random() - 0.5) * 0.4));
      return { celsius: Math.round(celsius * 10) / 10, simulated: true };
    },
  };
}

/**
 * Chooses the TEMP source: `sensor` needs a real one, `simulated` never reads one, `auto`
 * uses a sensor when the host has one and says so when it falls back.
 *
 * @example
 * const source = openTemperatureSource('auto');
 * source.read(); // { celsius: 21.1, simulated: true } on a VM without sensors
 */
export function openTemperatureSource(
  name: TemperatureSourceName,
  roots: readonly string[] = SYSFS_ROOTS,
): TemperatureSource {
  if (name === 'simulated') return simulatedSensor();
  const path = findSensor(roots);
  if (path === undefined) {
    if (name === 'sensor')
      throw new NoSensorError(
        'no temperature sensor found in /sys/class/thermal or /sys/class/hwmon',
      );
    return simulatedSensor();
  }
  const fallback = simulatedSensor();
  return {
    description: `sensor ${path}`,
    simulated: false,
    read() {
      const value = readMillidegrees(path);
      // A sensor that stops answering mid-run falls back for that reading, visibly.
      if (value === undefined) return fallback.read();
      return { celsius: Math.round(value / 100) / 10, simulated: false };
    },
  };
}
