/**
 * Numbers of the ubus wire protocol, as openwrt/ubus (ubusmsg.h, ubus_common.h, libubus.c)
 * and openwrt/libubox (blobmsg.h) define them. They are part of the protocol: changing
 * one breaks compatibility with ubusd, so they are spelled out rather than derived.
 */

/** enum ubus_msg_type: byte 1 of the message header. */
export const MsgType = {
  HELLO: 0,
  STATUS: 1,
  DATA: 2,
  PING: 3,
  LOOKUP: 4,
  INVOKE: 5,
  ADD_OBJECT: 6,
  REMOVE_OBJECT: 7,
  SUBSCRIBE: 8,
  UNSUBSCRIBE: 9,
  NOTIFY: 10,
  MONITOR: 11,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

/** enum ubus_msg_attr: ids of the attributes inside a message's root blob. */
export const Attr = {
  UNSPEC: 0,
  STATUS: 1,
  OBJPATH: 2,
  OBJID: 3,
  METHOD: 4,
  OBJTYPE: 5,
  SIGNATURE: 6,
  DATA: 7,
  TARGET: 8,
  ACTIVE: 9,
  NO_REPLY: 10,
  SUBSCRIBERS: 11,
  USER: 12,
  GROUP: 13,
} as const;
export type Attr = (typeof Attr)[keyof typeof Attr];

/**
 * enum ubus_monitor_attr: UBUS_MSG_MONITOR messages reuse the root blob with their own
 * ids (which overlap Attr's), so a monitor message is decoded with this table instead.
 */
export const MonitorAttr = {
  CLIENT: 0,
  PEER: 1,
  SEND: 2,
  SEQ: 3,
  TYPE: 4,
  DATA: 5,
} as const;
export type MonitorAttr = (typeof MonitorAttr)[keyof typeof MonitorAttr];

/** enum ubus_msg_status: the value of UBUS_ATTR_STATUS. */
export const Status = {
  OK: 0,
  INVALID_COMMAND: 1,
  INVALID_ARGUMENT: 2,
  METHOD_NOT_FOUND: 3,
  NOT_FOUND: 4,
  NO_DATA: 5,
  PERMISSION_DENIED: 6,
  TIMEOUT: 7,
  NOT_SUPPORTED: 8,
  UNKNOWN_ERROR: 9,
  CONNECTION_FAILED: 10,
  NO_MEMORY: 11,
  PARSE_ERROR: 12,
  SYSTEM_ERROR: 13,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** libubus ubus_strerror() texts, indexed by status: what `ubus` prints after "Command failed:". */
const STATUS_TEXT: readonly string[] = [
  'Success',
  'Invalid command',
  'Invalid argument',
  'Method not found',
  'Not found',
  'No response',
  'Permission denied',
  'Request timed out',
  'Operation not supported',
  'Unknown error',
  'Connection failed',
  'Out of memory',
  'Parsing message data failed',
  'System error',
];

/** The text libubus gives a status (`Method not found`); unknown numbers as libubus words them. */
export function statusName(status: number): string {
  return STATUS_TEXT[status] ?? `Unknown error: ${status}`;
}

/** enum blobmsg_type (libubox): the id of a blobmsg attribute. BOOL is INT8 on the wire. */
export const BlobmsgType = {
  UNSPEC: 0,
  ARRAY: 1,
  TABLE: 2,
  STRING: 3,
  INT64: 4,
  INT32: 5,
  INT16: 6,
  INT8: 7,
  BOOL: 7,
  DOUBLE: 8,
} as const;
export type BlobmsgType = (typeof BlobmsgType)[keyof typeof BlobmsgType];

/** Objects ubusd itself provides (UBUS_SYSTEM_OBJECT_*): their ids are fixed. */
export const SystemObject = {
  /** `register` (listen for events) and `send` (send one). */
  EVENT: 1,
  ACL: 2,
  /** `add` / `remove` (ubus monitor). */
  MONITOR: 3,
} as const;
export type SystemObject = (typeof SystemObject)[keyof typeof SystemObject];

/**
 * Largest root blob (padded length, header excluded) ubusd and libubus accept; both drop
 * the connection / the message beyond it. A build-time default of openwrt/ubus.
 */
export const UBUS_MAX_MSGLEN = 1048576;

/** Bytes of the message header before the root blob: version, type, seq (BE), peer (BE). */
export const UBUS_MSGHDR_LEN = 8;
