// Battery-life model for the two reference boards in two display modes.
//
//   node dist/hardware/power-budget.js [--json]        (after npm run build)
//
// Every input below says where it comes from: "datasheet" (the part's datasheet, typical value),
// "vendor" (board vendor's published figure) or "assumed" (an engineering estimate, to be replaced
// by a measurement). NO FIGURE HERE IS MEASURED YET: nobody has had the boards on a power analyser
// (e.g. Nordic PPK2 or a µCurrent in series with the battery). The model is an average-current sum:
//   average current = sleep current + Σ (event charge × events per hour) / 3600 s
//   life = usable battery capacity / average current.

export type Source = "datasheet" | "vendor" | "assumed" | "measured";

export interface Figure {
  value: number;
  unit: string;
  source: Source;
  note: string;
}

export interface BoardInputs {
  name: string;
  battery: Figure; // usable capacity, mAh
  offCurrent: Figure; // µA while the code is not being computed/drawn (board off or asleep)
  bootTime: Figure; // s from power-on/wake to first code drawn (runtime start + program start)
  activeCurrent: Figure; // mA while the MCU runs
  refreshTime: Figure; // s the display needs for one update
  refreshCurrent: Figure; // mA during a display update (MCU awake waiting + panel)
  displayOnCurrent: Figure; // mA to keep the display lit (0 for e-ink: the image stays unpowered)
}

/** Code period in seconds (devicescript.json "period"). */
export const PERIOD_SECONDS = 60;

export const BADGER_2040W: BoardInputs = {
  name: "Pimoroni Badger 2040 W",
  battery: { value: 1000, unit: "mAh", source: "assumed", note: "2 × AAA alkaline on the JST-PH battery input, ~1000 mAh usable down to 2.0 V (1200 mAh nominal at low drain, datasheet)" },
  offCurrent: { value: 10, unit: "µA", source: "assumed", note: "power latch off: PCF85063A 0.22 µA (datasheet) + regulator and latch leakage; to be measured" },
  bootTime: { value: 1.2, unit: "s", source: "assumed", note: "RP2040 boot + DeviceScript runtime + program start to first code; the VM figure is in the firmware report" },
  activeCurrent: { value: 25, unit: "mA", source: "assumed", note: "RP2040 at 125 MHz (datasheet ~20 mA) with CYW43 radio off" },
  refreshTime: { value: 1.5, unit: "s", source: "datasheet", note: "UC8151 / Pervasive 2.9\" panel full refresh ~1.5-2 s (partial update ~0.5 s)" },
  refreshCurrent: { value: 28, unit: "mA", source: "assumed", note: "MCU awake (25 mA) + panel drive ~3 mA (datasheet typ. refresh current)" },
  displayOnCurrent: { value: 0, unit: "mA", source: "datasheet", note: "e-ink keeps the image with no power" },
};

export const XIAO_ESP32C3_EXPANSION: BoardInputs = {
  name: "Seeed XIAO ESP32-C3 + XIAO Expansion Board",
  battery: { value: 400, unit: "mAh", source: "assumed", note: "3.7 V LiPo on the XIAO battery pads (a common 402030 cell)" },
  offCurrent: { value: 60, unit: "µA", source: "vendor", note: "XIAO ESP32-C3 deep sleep ~44 µA (Seeed wiki) + SSD1306 sleep ≤10 µA + PCF8563 0.25 µA (datasheets)" },
  bootTime: { value: 1.0, unit: "s", source: "assumed", note: "ESP32-C3 boot + DeviceScript runtime + program start" },
  activeCurrent: { value: 22, unit: "mA", source: "datasheet", note: "ESP32-C3 at 160 MHz, radio off (datasheet ~20-23 mA)" },
  refreshTime: { value: 0.03, unit: "s", source: "datasheet", note: "SSD1306 full frame over 400 kHz I2C (~1 KB)" },
  refreshCurrent: { value: 22, unit: "mA", source: "datasheet", note: "MCU awake; the OLED's own current is in displayOnCurrent" },
  displayOnCurrent: { value: 8, unit: "mA", source: "datasheet", note: "SSD1306 128×64 with ~25 % of pixels lit (datasheet ~0.1 mA per % lit + 0.5 mA logic)" },
};

export type Mode = "always-visible" | "press-to-show";

export interface ModeInputs {
  /** display updates per code period in always-visible mode (1 = code only, 4 = plus a 4-cell bar) */
  updatesPerPeriod: number;
  /** codes looked at per day in press-to-show mode */
  usesPerDay: number;
  /** seconds the code stays lit per use (OLED) */
  secondsShownPerUse: number;
}

export const DEFAULT_MODE_INPUTS: ModeInputs = { updatesPerPeriod: 1, usesPerDay: 6, secondsShownPerUse: 30 };

export interface Estimate {
  board: string;
  mode: Mode;
  averageMicroAmps: number;
  days: number;
  assumptions: string;
}

const HOUR = 3600;

/** Charge in mA·s of one wake: boot, compute (included in boot), one display update. */
function wakeCharge(b: BoardInputs): number {
  return b.bootTime.value * b.activeCurrent.value + b.refreshTime.value * b.refreshCurrent.value;
}

export function estimate(b: BoardInputs, mode: Mode, m: ModeInputs = DEFAULT_MODE_INPUTS): Estimate {
  let chargePerHour: number; // mA·s per hour on top of the off current
  let assumptions: string;
  const eink = b.displayOnCurrent.value === 0;
  if (mode === "always-visible") {
    if (eink) {
      // RTC alarm powers the board at each update, it draws and releases the power latch
      const wakes = (HOUR / PERIOD_SECONDS) * m.updatesPerPeriod;
      chargePerHour = wakes * wakeCharge(b);
      assumptions = `${m.updatesPerPeriod} wake(s) per ${PERIOD_SECONDS} s period (RTC alarm → boot → draw → power latch off)`;
    } else {
      // an OLED shows nothing unpowered: MCU and display stay on
      chargePerHour = HOUR * (b.activeCurrent.value + b.displayOnCurrent.value);
      assumptions = "MCU and OLED on continuously (DeviceScript has no light-sleep API)";
    }
  } else {
    const usesPerHour = m.usesPerDay / 24;
    if (eink) {
      // button press powers on, draw the code; an RTC alarm at the end of the period wakes it
      // again to draw "Press for code" so no expired code is left on the glass
      chargePerHour = usesPerHour * 2 * wakeCharge(b);
      assumptions = `${m.usesPerDay} uses/day, each = 2 wakes (show code, then blank at period end)`;
    } else {
      const shown = m.secondsShownPerUse * (b.activeCurrent.value + b.displayOnCurrent.value);
      chargePerHour = usesPerHour * (b.bootTime.value * b.activeCurrent.value + shown);
      assumptions = `${m.usesPerDay} uses/day, ${m.secondsShownPerUse} s lit each, deep sleep otherwise (needs a wake-on-button deep sleep the DeviceScript runtime does not expose yet)`;
    }
  }
  const averageMilliAmps = b.offCurrent.value / 1000 + chargePerHour / HOUR;
  const hours = b.battery.value / averageMilliAmps;
  return { board: b.name, mode, averageMicroAmps: averageMilliAmps * 1000, days: hours / 24, assumptions };
}

export function allEstimates(m: ModeInputs = DEFAULT_MODE_INPUTS): Estimate[] {
  const out: Estimate[] = [];
  for (const b of [BADGER_2040W, XIAO_ESP32C3_EXPANSION])
    for (const mode of ["always-visible", "press-to-show"] as Mode[]) out.push(estimate(b, mode, m));
  // e-ink with the 4-cell validity bar redrawn in always-visible mode
  out.push({ ...estimate(BADGER_2040W, "always-visible", { ...m, updatesPerPeriod: 4 }), mode: "always-visible" });
  return out;
}

function printTable(): void {
  const rows = allEstimates();
  for (const b of [BADGER_2040W, XIAO_ESP32C3_EXPANSION]) {
    console.log(`\n${b.name}`);
    for (const [k, f] of Object.entries(b).filter(([k]) => k !== "name") as [string, Figure][])
      console.log(`  ${k.padEnd(17)} ${String(f.value).padStart(6)} ${f.unit.padEnd(4)} [${f.source}] ${f.note}`);
  }
  console.log("\nEstimates (no figure measured yet; see the sources above)");
  for (const r of rows) {
    const life = r.days >= 60 ? `${(r.days / 30.4).toFixed(1)} months` : r.days >= 2 ? `${r.days.toFixed(1)} days` : `${(r.days * 24).toFixed(1)} hours`;
    console.log(`  ${r.board.padEnd(44)} ${r.mode.padEnd(15)} ${r.averageMicroAmps.toFixed(0).padStart(7)} µA avg  ${life.padStart(12)}  (${r.assumptions})`);
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop()!);
if (invokedDirectly) {
  if (process.argv.includes("--json")) console.log(JSON.stringify({ inputs: [BADGER_2040W, XIAO_ESP32C3_EXPANSION], estimates: allEstimates() }, null, 2));
  else printTable();
}
