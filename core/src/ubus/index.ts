/**
 * The ubus wire codec: byte-exact with openwrt/ubusd, libubus and libubox (tested against
 * captures in core/test/fixtures/ubus). The client and object plumbing sit on top of it.
 */
export * from './constants.js';
export { BLOB_ATTR_EXTENDED, BLOB_HDR_LEN, type BlobAttr, BlobWriter, blobPadLen, readBlobAttrs } from './blob.js';
export {
  BLOBMSG_MAX_DEPTH,
  type BlobmsgNode,
  type BlobmsgTypeName,
  type BlobmsgValue,
  Typed,
  type TypedType,
  decodeBlobmsgAttrs,
  decodeBlobmsgTable,
  double,
  encodeBlobmsgNodes,
  encodeBlobmsgTable,
  int16,
  int32,
  int64,
  int8,
  nodesToArray,
  nodesToObject,
} from './blobmsg.js';
export * from './message.js';
export { MessageReader } from './stream.js';
