// The desktop window's security decisions as plain functions (no Electron at run time, so unit tests
// reach them): which URLs are the app's own, which IPC senders are trusted, and which web permissions
// the page gets. Electron grants every permission request by default (camera, microphone, clipboard
// reads, notifications, geolocation, external protocols…), silently; the app needs none but a
// clipboard write, so everything else is refused.
import type { Session } from 'electron';

/** The renderer's origin: studio://app, served by studio-protocol.ts. */
export const APP_ORIGIN = 'studio://app';
const APP_PREFIX = `${APP_ORIGIN}/`;

/** True for a page of the app itself (the renderer and the gallery's images), nothing else. */
export function isAppUrl(url: string): boolean {
  return url.startsWith(APP_PREFIX);
}

/** What fromAppWindow looks at in an IPC event: the sender and the frame it came from. */
export interface IpcSenderFacts {
  /** The app's window is open and its webContents sent the message. */
  fromAppContents: boolean;
  /** The sending frame: null when it went away; `parent` null for a top frame. */
  frame: { url: string; parent: unknown } | null;
}

/** IPC is answered only for the app's window, its top frame, on the app's own pages. */
export function trustedSender({ fromAppContents, frame }: IpcSenderFacts): boolean {
  return fromAppContents && frame !== null && frame.parent === null && isAppUrl(frame.url);
}

/** Permissions the app's own pages may use: the "Copy seed" button's navigator.clipboard.writeText. */
const APP_PERMISSIONS = new Set(['clipboard-sanitized-write']);

/** A permission request (from a page URL) or check (from an origin): only the app's own needs, only for the app. */
export function permissionAllowed(permission: string, requesting: string): boolean {
  const fromApp = requesting === APP_ORIGIN || isAppUrl(requesting);
  return fromApp && APP_PERMISSIONS.has(permission);
}

type PermissionSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>;

/** Deny-by-default permission handlers on the window's session (requests, checks, and USB/HID/serial devices). */
export function restrictPermissions(session: PermissionSession): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(permissionAllowed(permission, details.requestingUrl ?? ''));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => permissionAllowed(permission, requestingOrigin));
  session.setDevicePermissionHandler(() => false);
}
