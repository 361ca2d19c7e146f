// Battery-life model for the two reference boards in their display modes.
//
//   node dist/hardware/power-budget.js [--json]        (after npm run build)
//
// Every input says where it comes from: "datasheet" (the part's datasheet, typical value), "vendor"
// (the board vendor's or the runtime's published figure or source code) or "assumed" (an engineering
// estimate, to be replaced by a measurement). NO FIGURE HERE IS MEASURED: nobody has had the boards
// on a power analyser yet. The model is a charge sum:
//   average current = off current + Σ (charge per event × events per hour) / 3600 s
//   life = charge the battery gives above the board's supply floor / average current.
// How to measure a real board (replace "assumed" by "measured"): see hardware/boards/*.md
// ("Measuring the power figures"): charge per wake and per use, off current, brown-out voltage.

export type Source = "datasheet" | "vendor" | "assumed" | "measured";

export interface Figure {
  value: number;
  unit: string;
  source: Source;
  note: string;
}

/** Cell voltage under a light load against the fraction of the rated capacity drawn (0 … 1). */
export interface Chemistry {
  name: string;
  cells: number;
  capacity: Figure; // mAh rated at low drain
  curve: Figure & { points: [number, number][] }; // [fraction drawn, volts per cell], volts falling
}

export interface BoardInputs {
  name: string;
  batteries: Chemistry[];
  supplyFloor: Figure; // V: the board stops below this supply voltage
  batteryLowVolts: Figure; // V: the firmware shows its battery-low mark below this (0: no sense)
  cellsMarkAfterDays: Figure; // days after fresh cells at which the always-visible build shows the mark (0: none)
  offCurrent: Figure; // µA while the code is not being computed/drawn (board off or asleep)
  bootTime: Figure; // s from power-on/wake to first code drawn (runtime start + program start)
  radioStartCharge: Figure; // mA·s the Wi-Fi chip costs per boot
  activeCurrent: Figure; // mA while the MCU runs
  refreshTime: Figure; // s the display needs for one update
  refreshCurrent: Figure; // mA during a display update (MCU awake waiting + panel)
  displayOnCurrent: Figure; // mA to keep the display lit (0 for e-ink: the image stays unpowered)
}

/** Code period in seconds (devicescript.json "period"). */
export const PERIOD_SECONDS = 60;

const LITHIUM_AAA: Chemistry = {
  name: "2 × AAA lithium (Li-FeS2)",
  cells: 2,
  capacity: { value: 1200, unit: "mAh", source: "datasheet", note: "Energizer L92 class, rated at low drain" },
  curve: {
    value: 1.6,
    unit: "V/cell",
    source: "assumed",
    note: "read off the L92 datasheet's discharge plots at light load: flat near 1.5-1.6 V, a knee in the last ~10 % (users' reports agree: ~1.7 V open circuit fresh, a slow fall to ~1.5 V, then a cliff; budgetlightforum.com/node/33238, archived.hpcalc.org museumforum thread 233964)",
    points: [[0, 1.65], [0.5, 1.55], [0.8, 1.5], [0.9, 1.45], [0.95, 1.35], [1, 1.0]],
  },
};

const ALKALINE_AAA: Chemistry = {
  name: "2 × AAA alkaline",
  cells: 2,
  capacity: { value: 1200, unit: "mAh", source: "datasheet", note: "Energizer E92 class, rated at low drain down to 0.8 V/cell" },
  curve: {
    value: 1.5,
    unit: "V/cell",
    source: "assumed",
    note: "read off the E92 datasheet's discharge plots at light load: a steady slope, 1.35 V/cell after ~40 %",
    points: [[0, 1.5], [0.1, 1.45], [0.25, 1.4], [0.4, 1.35], [0.55, 1.3], [0.7, 1.25], [0.8, 1.2], [0.9, 1.1], [1, 0.9]],
  },
};

const LIPO_400: Chemistry = {
  name: "3.7 V LiPo 400 mAh",
  cells: 1,
  capacity: { value: 400, unit: "mAh", source: "vendor", note: "a common 402030 cell on the XIAO battery pads" },
  curve: {
    value: 3.7,
    unit: "V/cell",
    source: "assumed",
    note: "typical LiPo curve at light load; its protection cuts off near 3.0 V",
    points: [[0, 4.15], [0.2, 3.9], [0.5, 3.75], [0.8, 3.6], [0.9, 3.45], [0.97, 3.3], [1, 3.0]],
  },
};

export const BADGER_2040W: BoardInputs = {
  name: "Pimoroni Badger 2040 W",
  batteries: [LITHIUM_AAA, ALKALINE_AAA],
  supplyFloor: { value: 2.7, unit: "V", source: "vendor", note: "Badger 2040 W battery input specified 2.7-6 V (Pimoroni); below it the board may brown out" },
  batteryLowVolts: { value: 2.9, unit: "V", source: "vendor", note: "firmware: BADGER_BATTERY_LOW_VOLTS (VSYS sense on GP29 through 1/3 divider)" },
  cellsMarkAfterDays: { value: 28, unit: "d", source: "vendor", note: "firmware: BADGER_CELLS_MARK_AFTER_DAYS; always-visible wakes once per code, so time since fresh cells counts the charge (cell-age.ts); whichever mark comes first" },
  offCurrent: { value: 10, unit: "µA", source: "assumed", note: "power latch off: PCF85063A 0.22 µA (datasheet) + regulator and latch leakage; to be measured" },
  bootTime: { value: 1.2, unit: "s", source: "assumed", note: "RP2040 boot + DeviceScript runtime + program start to first code; the VM figure is in the firmware report" },
  radioStartCharge: { value: 0, unit: "mA·s", source: "vendor", note: "Badger builds set devNetwork: true, so the runtime does not start the CYW43 (without it each boot loads the Wi-Fi firmware, ~0.5 s at ~50 mA (assumed), and may scan 2 s later)" },
  activeCurrent: { value: 25, unit: "mA", source: "assumed", note: "RP2040 at 125 MHz (datasheet ~20 mA) + regulator, radio off" },
  refreshTime: { value: 0.93, unit: "s", source: "vendor", note: "DeviceScript's UC8151 driver uses one fast waveform: 93 frames of its LUT at 100 Hz; no partial update" },
  refreshCurrent: { value: 33, unit: "mA", source: "assumed", note: "MCU awake waiting (25 mA) + 2.9\" UC8151 panel ≈ 8 mA while refreshing (≈ 26 mW, panel vendors' figures)" },
  displayOnCurrent: { value: 0, unit: "mA", source: "datasheet", note: "e-ink keeps the image with no power" },
};

export const XIAO_ESP32C3_EXPANSION: BoardInputs = {
  name: "Seeed XIAO ESP32-C3 + XIAO Expansion Board",
  batteries: [LIPO_400],
  supplyFloor: { value: 3.3, unit: "V", source: "assumed", note: "3.3 V LDO from the cell: below ~3.3-3.4 V the MCU rail sags; the cell's protection stops at ~3.0 V" },
  batteryLowVolts: { value: 0, unit: "V", source: "vendor", note: "no supply sense: the XIAO board routes no battery voltage to an ADC pin, so the firmware shows no battery-low mark (a divider to A0 would add one)" },
  cellsMarkAfterDays: { value: 0, unit: "d", source: "vendor", note: "no battery mark on this board" },
  offCurrent: { value: 60, unit: "µA", source: "vendor", note: "XIAO ESP32-C3 deep sleep ~44 µA (Seeed wiki) + SSD1306 sleep ≤10 µA + PCF8563 0.25 µA (datasheets)" },
  bootTime: { value: 1.0, unit: "s", source: "assumed", note: "ESP32-C3 boot + DeviceScript runtime + program start" },
  radioStartCharge: { value: 0, unit: "mA·s", source: "assumed", note: "the ESP32-C3 runtime starts Wi-Fi only when configured for it" },
  activeCurrent: { value: 22, unit: "mA", source: "datasheet", note: "ESP32-C3 at 160 MHz, radio off (datasheet ~20-23 mA)" },
  refreshTime: { value: 0.03, unit: "s", source: "datasheet", note: "SSD1306 full frame over 400 kHz I2C (~1 KB)" },
  refreshCurrent: { value: 22, unit: "mA", source: "datasheet", note: "MCU awake; the OLED's own current is in displayOnCurrent" },
  displayOnCurrent: { value: 8, unit: "mA", source: "datasheet", note: "SSD1306 128×64 with ~25 % of pixels lit (datasheet ~0.1 mA per % lit + 0.5 mA logic)" },
};

export type Mode = "always-visible" | "press-to-show";

export interface ModeInputs {
  /** codes looked at per day in press-to-show mode */
  usesPerDay: number;
}

export const DEFAULT_MODE_INPUTS: ModeInputs = { usesPerDay: 6 };

/** Cells of the e-ink validity bar in press-to-show mode (firmware EINK_INDICATOR). */
const BAR_CELLS = 4;

export interface Estimate {
  board: string;
  mode: Mode;
  battery: string;
  averageMicroAmps: number;
  /** days from fresh cells to the board's supply floor */
  days: number;
  /** days left when the battery-low mark appears (undefined: no mark on this board) */
  warningDays: number | undefined;
  assumptions: string;
}

const HOUR = 3600;

/** Fraction of the rated capacity drawn when a cell is down to `volts` (interpolated). */
export function fractionDrawnAt(curve: [number, number][], volts: number): number {
  if (volts >= curve[0][1]) return 0;
  for (let i = 1; i < curve.length; i++) {
    const [f0, v0] = curve[i - 1];
    const [f1, v1] = curve[i];
    if (volts >= v1) return f0 + ((v0 - volts) / (v0 - v1)) * (f1 - f0);
  }
  return 1;
}

/** mAh the battery gives between supply voltages `fromVolts` and `toVolts` (from > to). */
export function chargeBetween(b: Chemistry, fromVolts: number, toVolts: number): number {
  const drawn = (v: number) => fractionDrawnAt(b.curve.points, v / b.cells);
  return Math.max(0, drawn(toVolts) - drawn(fromVolts)) * b.capacity.value;
}

/** Charge in mA·s of one wake: boot (code computed within it) and one display update. */
function wakeCharge(b: BoardInputs): number {
  return b.bootTime.value * b.activeCurrent.value + b.radioStartCharge.value + b.refreshTime.value * b.refreshCurrent.value;
}

/** Average current in µA and what it assumes. */
export function averageCurrent(b: BoardInputs, mode: Mode, m: ModeInputs = DEFAULT_MODE_INPUTS): { microAmps: number; assumptions: string } {
  let chargePerHour: number; // mA·s per hour on top of the off current
  let assumptions: string;
  const eink = b.displayOnCurrent.value === 0;
  const refresh = b.refreshTime.value * b.refreshCurrent.value;
  if (mode === "always-visible") {
    if (eink) {
      // the RTC alarm powers the board once per code: boot, draw, release the power latch
      chargePerHour = (HOUR / PERIOD_SECONDS) * wakeCharge(b);
      assumptions = `1 wake per ${PERIOD_SECONDS} s code (RTC alarm → boot → draw → power latch off)`;
    } else {
      // an OLED shows nothing unpowered: MCU and display stay on
      chargePerHour = HOUR * (b.activeCurrent.value + b.displayOnCurrent.value);
      assumptions = "MCU and OLED on continuously (DeviceScript has no light-sleep API)";
    }
  } else {
    const usesPerHour = m.usesPerDay / 24;
    if (eink) {
      // a press powers the board: boot and draw the code; it stays on until the step ends (half a
      // period on average), redrawing the bar at each cell boundary (on average half of the cells
      // less one), then draws the rest screen and releases the latch
      const shownSeconds = PERIOD_SECONDS / 2;
      const barRedraws = (BAR_CELLS - 1) / 2;
      const perUse = wakeCharge(b) + shownSeconds * b.activeCurrent.value + (barRedraws + 1) * refresh;
      chargePerHour = usesPerHour * perUse;
      assumptions = `${m.usesPerDay} uses/day, each: boot + draw, on for ${shownSeconds} s on average, ${barRedraws} bar redraws, rest-screen redraw`;
    } else {
      const shownSeconds = PERIOD_SECONDS / 2;
      const shown = shownSeconds * (b.activeCurrent.value + b.displayOnCurrent.value);
      chargePerHour = usesPerHour * (b.bootTime.value * b.activeCurrent.value + shown);
      assumptions = `${m.usesPerDay} uses/day, ${shownSeconds} s lit each, deep sleep otherwise (needs a wake-on-button deep sleep the DeviceScript runtime does not expose yet)`;
    }
  }
  return { microAmps: b.offCurrent.value + (chargePerHour / HOUR) * 1000, assumptions };
}

export function estimate(b: BoardInputs, mode: Mode, battery: Chemistry = b.batteries[0], m: ModeInputs = DEFAULT_MODE_INPUTS): Estimate {
  const { microAmps, assumptions } = averageCurrent(b, mode, m);
  const fresh = battery.curve.points[0][1] * battery.cells;
  const daysOf = (mAh: number) => mAh / (microAmps / 1000) / 24;
  const floor = b.supplyFloor.value;
  const low = b.batteryLowVolts.value;
  const days = daysOf(chargeBetween(battery, fresh, floor));
  // the first mark to appear leaves the most days: the voltage threshold, or the cells' age
  let warningDays = low > 0 ? daysOf(chargeBetween(battery, Math.min(low, fresh), floor)) : undefined;
  const markAfter = b.cellsMarkAfterDays.value;
  if (mode === "always-visible" && markAfter > 0 && days > markAfter) warningDays = Math.max(warningDays ?? 0, days - markAfter);
  return { board: b.name, mode, battery: battery.name, averageMicroAmps: microAmps, days, warningDays, assumptions };
}

/** Most press-to-show uses a day for which the battery mark still leaves `minDays` (the search stops at 100). */
export function maxUsesPerDayWithWarning(b: BoardInputs, battery: Chemistry, minDays = 14): number {
  let uses = 0;
  while (uses < 100 && (estimate(b, "press-to-show", battery, { usesPerDay: uses + 1 }).warningDays ?? 0) >= minDays) uses++;
  return uses;
}

export function allEstimates(m: ModeInputs = DEFAULT_MODE_INPUTS): Estimate[] {
  const out: Estimate[] = [];
  for (const b of [BADGER_2040W, XIAO_ESP32C3_EXPANSION])
    for (const battery of b.batteries)
      for (const mode of ["always-visible", "press-to-show"] as Mode[]) out.push(estimate(b, mode, battery, m));
  return out;
}

function duration(days: number): string {
  return days >= 60 ? `${(days / 30.4).toFixed(1)} months` : days >= 2 ? `${days.toFixed(1)} days` : `${(days * 24).toFixed(1)} hours`;
}

function printTable(): void {
  for (const b of [BADGER_2040W, XIAO_ESP32C3_EXPANSION]) {
    console.log(`\n${b.name}`);
    for (const [k, f] of Object.entries(b).filter(([k]) => k !== "name" && k !== "batteries") as [string, Figure][])
      console.log(`  ${k.padEnd(17)} ${String(f.value).padStart(6)} ${f.unit.padEnd(4)} [${f.source}] ${f.note}`);
    for (const c of b.batteries)
      console.log(`  battery ${c.name}: ${c.capacity.value} mAh [${c.capacity.source}] ${c.capacity.note}; curve [${c.curve.source}] ${c.curve.note}`);
  }
  console.log("\nEstimates (modelled, not measured; see the sources above)");
  for (const r of allEstimates()) {
    const warning = r.warningDays === undefined ? "no battery mark" : `mark ${duration(r.warningDays)} before the end`;
    console.log(
      `  ${r.board.padEnd(44)} ${r.battery.padEnd(26)} ${r.mode.padEnd(15)} ${r.averageMicroAmps.toFixed(0).padStart(7)} µA avg  ${duration(r.days).padStart(12)}  ${warning}  (${r.assumptions})`,
    );
  }
  for (const c of BADGER_2040W.batteries) {
    const uses = maxUsesPerDayWithWarning(BADGER_2040W, c);
    console.log(`  press-to-show on ${c.name}: the mark leaves 2 weeks up to ${uses >= 100 ? "100 or more" : uses} uses a day`);
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop()!);
if (invokedDirectly) {
  if (process.argv.includes("--json")) console.log(JSON.stringify({ inputs: [BADGER_2040W, XIAO_ESP32C3_EXPANSION], estimates: allEstimates() }, null, 2));
  else printTable();
}
