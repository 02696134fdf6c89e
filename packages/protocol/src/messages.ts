/** Which end of a connection a decoder sits on. */
export type Role = 'server' | 'client';

/** The fields of a ClientHello. */
export interface ClientHello {
  /** Protocol version asked for (1). */
  readonly version: number;
  /** Cipher id asked for (`CipherId`). */
  readonly cipher: number;
  /** Diffie-Hellman group id (`GroupId`). */
  readonly group: number;
  /** The client's public key, u16. */
  readonly publicKey: number;
}

/** The fields of a ServerHello. */
export interface ServerHello {
  /** Protocol version of the server (1). */
  readonly version: number;
  /** `HelloStatus`; anything but OK is followed by the server closing. */
  readonly status: number;
  /** The cipher id the server chose. */
  readonly cipher: number;
  /** The server's public key, u16; 0 when `status` is not OK. */
  readonly publicKey: number;
}

/** A decoded ClientHello. */
export interface ClientHelloMessage extends ClientHello {
  readonly type: 'client-hello';
}

/** A decoded ServerHello. */
export interface ServerHelloMessage extends ServerHello {
  readonly type: 'server-hello';
}

/** A decoded REQUEST frame. `command` may be a code this version does not know. */
export interface RequestMessage {
  readonly type: 'request';
  /** Request id, u32, chosen by the client. */
  readonly id: number;
  /** Command code (`Command`), possibly unknown. */
  readonly command: number;
  /** The request payload: a view valid only during the `onMessage` call. */
  readonly payload: Uint8Array;
}

/** A decoded RESPONSE frame. */
export interface ResponseMessage {
  readonly type: 'response';
  /** The id of the request this answers. */
  readonly id: number;
  /** `Status` code. */
  readonly status: number;
  /** UTF-8 answer, PING echo or error text: a view valid only during the `onMessage` call. */
  readonly payload: Uint8Array;
}

/** A decoded ERROR frame (fatal: the server closes right after). */
export interface ErrorMessage {
  readonly type: 'error';
  /** `ErrorCode`. */
  readonly code: number;
  /** The UTF-8 message (invalid sequences replaced by U+FFFD). */
  readonly message: string;
}

/** What a server-side decoder hands out. */
export type ServerInboundMessage = ClientHelloMessage | RequestMessage;

/** What a client-side decoder hands out. */
export type ClientInboundMessage = ServerHelloMessage | ResponseMessage | ErrorMessage;

/** Every message a decoder can hand out. */
export type DecodedMessage = ServerInboundMessage | ClientInboundMessage;

/** The messages a decoder with role `R` hands out. */
export type InboundMessage<R extends Role> = R extends 'server'
  ? ServerInboundMessage
  : ClientInboundMessage;
