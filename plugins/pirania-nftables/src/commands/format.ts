import type { VoucherEntry } from '../methods.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * A Unix time as C's strftime %c in the C locale, in local time, e.g.
 * `Tue Aug  4 02:45:01 2020`: what Lua's os.date('%c') prints in Pirania's listings, so
 * scripts that parse them keep working.
 */
export function cDate(unix: number): string {
  const d = new Date(unix * 1000);
  const day = String(d.getDate()).padStart(2, ' ');
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day} ${time} ${d.getFullYear()}`;
}

/**
 * One voucher as Pirania's `voucher` CLI prints it (voucher.tostring()), tab-separated:
 * id, name, code, MAC (xx:… while unused), creation, duration_m ('perm' when permanent),
 * expiration ('-' when none), mod_counter.
 */
export function voucherLine(v: VoucherEntry): string {
  return [
    v.id,
    v.name,
    v.code,
    v.mac ?? 'xx:xx:xx:xx:xx:xx',
    cDate(v.creation_date),
    v.duration_m === undefined ? 'perm' : String(v.duration_m),
    v.expiration_date === undefined ? '-' : cDate(v.expiration_date),
    String(v.mod_counter),
  ].join('\t');
}
