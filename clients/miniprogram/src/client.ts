/**
 * A typed client of the Fingertip API for the WeChat mini-program.
 *
 * Every request and answer type comes from `schema.d.ts`, generated from the OpenAPI document
 * the server serves (`npm run generate`); CI regenerates it and type-checks this file against
 * it, so a change of the API that breaks the mini-program breaks the build first.
 *
 * Built for a phone on a bad connection:
 * - reads (`GET`) are retried after a network failure, and after a 503 or 429 that says when
 *   (`Retry-After`, at most a few seconds), twice at most; writes are never retried blindly;
 * - the inbox, the unread count and an item are fetched with `If-None-Match`: an unchanged
 *   answer is a 304 with no body, and the wrapper says `notModified`;
 * - an expired access token is refreshed once with the refresh token, then the request is
 *   sent again; a refresh that fails ends the session (`onSessionEnded`);
 * - the live socket reconnects with backoff and refreshes its token when the server closes
 *   it for the token.
 */

import type { components } from "./schema";

export type Schemas = components["schemas"];
export type TokenResponse = Schemas["TokenResponse"];
export type WechatLoginResponse = Schemas["WechatLoginResponse"];
export type BindRequiredResponse = Schemas["BindRequiredResponse"];
export type Me = Schemas["Me"];
export type InboxListResponse = Schemas["InboxListResponse"];
export type InboxItem = Schemas["InboxItemResponse"];
export type InboxItemDetail = Schemas["InboxItemDetailResponse"];
export type UnreadCountResponse = Schemas["UnreadCountResponse"];
export type ReadResponse = Schemas["ReadResponse"];
export type ReadAllResponse = Schemas["ReadAllResponse"];
export type CreditsResponse = Schemas["CreditsResponse"];
export type SubscriptionsRequest = Schemas["SubscriptionsRequest"];
export type MyMeeting = Schemas["MyMeetingResponse"];
export type MyMeetingsPage = Schemas["Paged_MyMeetingResponse"];
export type AnswerRequest = Schemas["AnswerRequest"];
export type LiveMessage = Schemas["LiveMessage"];
export type ErrorBody = Schemas["ErrorBody"];
export type StudyCredit = Schemas["StudyCreditResponse"];
export type StudyYear = Schemas["MemberYearResponse"];
export type PushPreferences = Schemas["PushPreferences"];
export type PushPreferencesRequest = Schemas["PushPreferencesRequest"];
export type MySurvey = Schemas["MySurveyResponse"];
export type MySurveyList = Schemas["MySurveyList"];
export type FeedbackThread = Schemas["FeedbackThread"];
export type FeedbackList = Schemas["FeedbackList"];
export type FeedbackRequest = Schemas["FeedbackRequest"];
export type AnonymousFeedbackCreated = Schemas["AnonymousFeedbackCreated"];
export type ArchiveEntry = Schemas["ArchiveEntry"];
export type ArchiveList = Schemas["ArchiveList"];

/** Where the session's tokens live: in memory by default; `wx.setStorageSync` in an app. */
export interface TokenStore {
  get(): { access: string; refresh: string } | undefined;
  set(tokens: { access: string; refresh: string } | undefined): void;
}

export function memoryTokenStore(): TokenStore {
  let tokens: { access: string; refresh: string } | undefined;
  return {
    get: () => tokens,
    set: (t) => {
      tokens = t;
    },
  };
}

/** Tokens kept with `wx.setStorageSync` under `key`, so that they survive the app's restart. */
export function storageTokenStore(key = "fingertip.tokens"): TokenStore {
  return {
    get: () => {
      const v = wx.getStorageSync(key) as { access?: string; refresh?: string } | "";
      return v && v.access && v.refresh ? { access: v.access, refresh: v.refresh } : undefined;
    },
    set: (t) => {
      if (t) {
        wx.setStorageSync(key, t);
      } else {
        wx.removeStorageSync(key);
      }
    },
  };
}

export interface ClientOptions {
  /** The server, e.g. `https://fingertip.example.gov.cn` (no trailing slash needed). */
  baseUrl: string;
  tokens?: TokenStore;
  /** Per request; default 15 s. */
  timeoutMs?: number;
  /** Called when the session cannot be refreshed: show the login page. */
  onSessionEnded?: () => void;
}

/** An answer that is not a success, with the API's stable error code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: ErrorBody | undefined;
  /** Seconds to wait before trying again, when the server said (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(status: number, body: ErrorBody | undefined, retryAfter: number | undefined) {
    super(body?.error.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error.code ?? (status === 0 ? "network" : "http_" + status);
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

export type RefreshOutcome = "refreshed" | "ended" | "later";

/** A conditional read: the new copy and its tag, or `notModified` when the client's is current. */
export type Conditional<T> = { notModified: true } | { notModified: false; data: T; etag?: string };

/** What `wx.request` can send (it has no PATCH; no member route needs one). */
type Method = "GET" | "POST" | "PUT" | "DELETE";

interface Answer {
  status: number;
  data: unknown;
  header: Record<string, string>;
}

const MAX_RETRIES = 2;
const MAX_RETRY_AFTER_S = 5;

function header(h: Record<string, string>, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const k of Object.keys(h)) {
    if (k.toLowerCase() === want) {
      return h[k];
    }
  }
  return undefined;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.keys(params)
    .filter((k) => params[k] !== undefined)
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(String(params[k]))}`);
  return parts.length ? "?" + parts.join("&") : "";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class FingertipClient {
  readonly baseUrl: string;
  readonly tokens: TokenStore;
  private readonly timeoutMs: number;
  private readonly onSessionEnded: () => void;
  private refreshing: Promise<RefreshOutcome> | undefined;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.tokens = opts.tokens ?? memoryTokenStore();
    this.timeoutMs = opts.timeoutMs ?? 15000;
    this.onSessionEnded = opts.onSessionEnded ?? (() => undefined);
  }

  // --- login and binding ----------------------------------------------------------------

  /** Logs in with the code of `wx.login()`: tokens (kept), or a bind token to bind with. */
  async login(code: string): Promise<WechatLoginResponse> {
    const r = await this.send<WechatLoginResponse>("POST", "/api/v1/auth/wechat/login", { code }, false);
    if ("access_token" in r) {
      this.keep(r);
    }
    return r;
  }

  /** Binds the WeChat account to the roster entry of the invite code; keeps the tokens. */
  async bind(bindToken: string, inviteCode: string): Promise<TokenResponse> {
    const body: Schemas["BindRequest"] = { bind_token: bindToken, invite_code: inviteCode };
    const r = await this.send<TokenResponse>("POST", "/api/v1/auth/wechat/bind", body, false);
    this.keep(r);
    return r;
  }

  /** Ends the session on the server and forgets the tokens here. */
  async logout(): Promise<void> {
    const t = this.tokens.get();
    try {
      if (t) {
        const body: Schemas["LogoutRequest"] = { refresh_token: t.refresh };
        await this.send<Schemas["OkResponse"]>("POST", "/api/v1/auth/logout", body, false);
      }
    } finally {
      this.tokens.set(undefined);
    }
  }

  me(): Promise<Me> {
    return this.send<Me>("GET", "/api/v1/me");
  }

  // --- inbox ----------------------------------------------------------------------------

  /** A page of the inbox, newest first; pass the `etag` of the copy shown to poll cheaply. */
  inbox(
    params: { limit?: number; cursor?: string; unread_only?: boolean } = {},
    etag?: string,
  ): Promise<Conditional<InboxListResponse>> {
    return this.conditional<InboxListResponse>("/api/v1/inbox" + query(params), etag);
  }

  unreadCount(etag?: string): Promise<Conditional<UnreadCountResponse>> {
    return this.conditional<UnreadCountResponse>("/api/v1/inbox/unread-count", etag);
  }

  item(id: string, etag?: string): Promise<Conditional<InboxItemDetail>> {
    return this.conditional<InboxItemDetail>(`/api/v1/inbox/${encodeURIComponent(id)}`, etag);
  }

  /** Marks one item read (reading again changes nothing). */
  markRead(id: string): Promise<ReadResponse> {
    return this.send<ReadResponse>("POST", `/api/v1/inbox/${encodeURIComponent(id)}/read`, {});
  }

  readAll(): Promise<ReadAllResponse> {
    return this.send<ReadAllResponse>("POST", "/api/v1/inbox/read-all", {});
  }

  // --- study time -----------------------------------------------------------------------

  /**
   * Reports reading time on an open item: call it when the item opens (with 0), about every
   * 30 s while it is shown (with the seconds it was visible since the last call: pause the
   * count in `onHide`), and with `closed` in `onUnload`. `session` is a random key made once
   * per opening of the item (8 to 64 letters, digits, `-`, `_`). The server credits what it can
   * vouch for, up to the post's study minutes.
   */
  studyHeartbeat(id: string, session: string, visibleSeconds: number, closed = false): Promise<StudyCredit> {
    const body: Schemas["StudyHeartbeatRequest"] = { session, visible_seconds: visibleSeconds, closed };
    return this.send<StudyCredit>("POST", `/api/v1/inbox/${encodeURIComponent(id)}/study`, body);
  }

  /** The member's study year: total against target, every credit, required reading not done. */
  myStudy(year?: number): Promise<StudyYear> {
    return this.send<StudyYear>("GET", "/api/v1/me/study" + query({ year }));
  }

  // --- subscribe-message consent ----------------------------------------------------------

  subscriptions(): Promise<CreditsResponse> {
    return this.send<CreditsResponse>("GET", "/api/v1/me/wechat/subscriptions");
  }

  /** Records what `wx.requestSubscribeMessage` answered: each `accept` is one credit. */
  recordSubscriptions(results: SubscriptionsRequest["results"]): Promise<CreditsResponse> {
    const body: SubscriptionsRequest = { results };
    return this.send<CreditsResponse>("POST", "/api/v1/me/wechat/subscriptions", body);
  }

  /** Quiet hours and off-site (one digest a day) as they apply, defaults filled in. */
  pushPreferences(): Promise<PushPreferences> {
    return this.send<PushPreferences>("GET", "/api/v1/me/push-preferences");
  }

  /** Changes them; absent fields stay. Times are "HH:MM" in the returned `timezone`. */
  setPushPreferences(change: PushPreferencesRequest): Promise<PushPreferences> {
    return this.send<PushPreferences>("PUT", "/api/v1/me/push-preferences", change);
  }

  // --- meetings -------------------------------------------------------------------------

  meetings(params: { when?: "upcoming" | "past"; limit?: number; cursor?: string } = {}): Promise<MyMeetingsPage> {
    return this.send<MyMeetingsPage>("GET", "/api/v1/meetings" + query(params));
  }

  meeting(id: string): Promise<MyMeeting> {
    return this.send<MyMeeting>("GET", `/api/v1/meetings/${encodeURIComponent(id)}`);
  }

  /** Attending, or on leave with a reason. */
  answer(id: string, answer: AnswerRequest): Promise<MyMeeting> {
    return this.send<MyMeeting>("POST", `/api/v1/meetings/${encodeURIComponent(id)}/answer`, answer);
  }

  /** Checks in with the code shown in the meeting room. */
  checkIn(id: string, code: string): Promise<MyMeeting> {
    const body: Schemas["CheckInRequest"] = { code };
    return this.send<MyMeeting>("POST", `/api/v1/meetings/${encodeURIComponent(id)}/check-in`, body);
  }

  // --- surveys (测评) ---------------------------------------------------------------------

  /** The surveys this member is asked, the open ones first; `post_id` matches the inbox notice. */
  surveys(): Promise<MySurveyList> {
    return this.send<MySurveyList>("GET", "/api/v1/surveys");
  }

  survey(id: string): Promise<MySurvey> {
    return this.send<MySurvey>("GET", `/api/v1/surveys/${encodeURIComponent(id)}`);
  }

  /**
   * Answers once, anonymously: one entry per question (an option's index, an array of indexes,
   * a text, or null to skip an optional one). A 409 `conflict` after a lost reply means the
   * answer was taken (or the survey has closed: `survey()` tells which).
   */
  async answerSurvey(id: string, answers: (number | number[] | string | null)[]): Promise<void> {
    const body: Schemas["BallotRequest"] = { answers: answers as Schemas["BallotRequest"]["answers"] };
    await this.send<unknown>("POST", `/api/v1/surveys/${encodeURIComponent(id)}/ballot`, body);
  }

  // --- feedback to the branch (意见建议) ---------------------------------------------------

  /** Writes under one's name; each answer arrives in the inbox. */
  writeFeedback(f: FeedbackRequest): Promise<FeedbackThread> {
    return this.send<FeedbackThread>("POST", "/api/v1/feedback", f);
  }

  /** One's named threads, newest first (without messages: open one with `feedbackThread`). */
  myFeedback(): Promise<FeedbackList> {
    return this.send<FeedbackList>("GET", "/api/v1/feedback");
  }

  feedbackThread(id: string): Promise<FeedbackThread> {
    return this.send<FeedbackThread>("GET", `/api/v1/feedback/${encodeURIComponent(id)}`);
  }

  followUpFeedback(id: string, body: string): Promise<FeedbackThread> {
    return this.send<FeedbackThread>("POST", `/api/v1/feedback/${encodeURIComponent(id)}/messages`, { body });
  }

  /**
   * Writes anonymously (to a unit of at least 5 members). Keep the returned `key` on the phone
   * (e.g. `wx.setStorageSync`): it alone opens the thread, and it cannot be recovered. Answers are
   * not announced in the inbox (that would name the writer): poll `anonymousFeedback(key)`.
   */
  writeAnonymousFeedback(f: FeedbackRequest): Promise<AnonymousFeedbackCreated> {
    return this.send<AnonymousFeedbackCreated>("POST", "/api/v1/anonymous-feedback", f);
  }

  anonymousFeedback(key: string): Promise<FeedbackThread> {
    return this.send<FeedbackThread>("POST", "/api/v1/anonymous-feedback/thread", { key });
  }

  followUpAnonymousFeedback(key: string, body: string): Promise<FeedbackThread> {
    return this.send<FeedbackThread>("POST", "/api/v1/anonymous-feedback/messages", { key, body });
  }

  // --- the disclosure archive (党务公开) ----------------------------------------------------

  /** Published disclosures this member may read, newest first (without their text). */
  disclosures(params: { unit_id?: string; year?: number } = {}): Promise<ArchiveList> {
    return this.send<ArchiveList>("GET", "/api/v1/disclosures" + query(params));
  }

  disclosure(id: string): Promise<ArchiveEntry> {
    return this.send<ArchiveEntry>("GET", `/api/v1/disclosures/${encodeURIComponent(id)}`);
  }

  // --- the web console ------------------------------------------------------------------

  /**
   * Logs the web console in as this member (an admin or a secretary): `ticket` is what the
   * console's QR code carries (`wx.scanCode`, after asking "log in to the console as …?").
   * A ticket works once and for two minutes: an unknown, expired or used one is a 404.
   */
  async approveConsoleLogin(ticket: string): Promise<void> {
    const body: Schemas["ConsoleApproveRequest"] = { ticket };
    await this.send<Schemas["OkResponse"]>("POST", "/api/v1/auth/console/approve", body);
  }

  // --- the live inbox -------------------------------------------------------------------

  /** Opens the live inbox; see {@link LiveInbox}. */
  live(onMessage: (m: LiveMessage) => void): LiveInbox {
    return new LiveInbox(this, onMessage);
  }

  /**
   * Refreshes the access token once for everybody waiting: `refreshed`, `ended` (the session
   * is over: log in again), or `later` (the network or the server failed: try again later).
   */
  refresh(): Promise<RefreshOutcome> {
    let r = this.refreshing;
    if (!r) {
      r = this.doRefresh().finally(() => {
        this.refreshing = undefined;
      });
      this.refreshing = r;
    }
    return r;
  }

  // --- plumbing -------------------------------------------------------------------------

  private keep(t: TokenResponse): void {
    this.tokens.set({ access: t.access_token, refresh: t.refresh_token });
  }

  private async doRefresh(): Promise<RefreshOutcome> {
    const t = this.tokens.get();
    if (!t) {
      return "ended";
    }
    const body: Schemas["RefreshRequest"] = { refresh_token: t.refresh };
    const r = await this.raw("POST", "/api/v1/auth/refresh", body, false);
    if (r.status === 200) {
      this.keep(r.data as TokenResponse);
      return "refreshed";
    }
    if (r.status === 401 || r.status === 400) {
      this.tokens.set(undefined);
      this.onSessionEnded();
      return "ended";
    }
    return "later";
  }

  private async conditional<T>(path: string, etag?: string): Promise<Conditional<T>> {
    const r = await this.authed("GET", path, undefined, etag);
    if (r.status === 304) {
      return { notModified: true };
    }
    return { notModified: false, data: r.data as T, etag: header(r.header, "etag") };
  }

  private async send<T>(method: Method, path: string, body?: object, auth = true): Promise<T> {
    const r = auth ? await this.authed(method, path, body) : await this.checked(method, path, body, false);
    return r.data as T;
  }

  /** With the access token; on a 401, one refresh and one more try. */
  private async authed(method: Method, path: string, body?: object, etag?: string): Promise<Answer> {
    const first = await this.raw(method, path, body, true, etag);
    if (first.status !== 401 || (await this.refresh()) !== "refreshed") {
      return this.ok(first);
    }
    return this.checked(method, path, body, true, etag);
  }

  private async checked(method: Method, path: string, body: object | undefined, auth: boolean, etag?: string): Promise<Answer> {
    return this.ok(await this.raw(method, path, body, auth, etag));
  }

  private ok(r: Answer): Answer {
    if ((r.status >= 200 && r.status < 300) || r.status === 304) {
      return r;
    }
    const after = Number(header(r.header, "retry-after"));
    throw new ApiError(r.status, r.data as ErrorBody | undefined, Number.isFinite(after) ? after : undefined);
  }

  /** One request, with the retries a read may take; status 0 when the network failed for good. */
  private async raw(method: Method, path: string, body: object | undefined, auth: boolean, etag?: string): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.once(method, path, body, auth, etag);
      const after = Number(header(r.header, "retry-after"));
      const waitable = (r.status === 503 || r.status === 429) && after > 0 && after <= MAX_RETRY_AFTER_S;
      const retry = method === "GET" && attempt < MAX_RETRIES && (r.status === 0 || waitable);
      if (!retry) {
        return r;
      }
      await sleep(r.status === 0 ? 500 * 2 ** attempt : after * 1000);
    }
  }

  private once(method: Method, path: string, body: object | undefined, auth: boolean, etag?: string): Promise<Answer> {
    const h: Record<string, string> = {};
    const t = this.tokens.get();
    if (auth && t) {
      h["Authorization"] = `Bearer ${t.access}`;
    }
    if (etag) {
      h["If-None-Match"] = etag;
    }
    if (body !== undefined) {
      h["Content-Type"] = "application/json";
    }
    return new Promise((resolve) => {
      wx.request({
        url: this.baseUrl + path,
        method,
        data: body,
        header: h,
        timeout: this.timeoutMs,
        dataType: "json",
        success: (res) =>
          resolve({ status: res.statusCode, data: res.data, header: res.header as Record<string, string> }),
        fail: () => resolve({ status: 0, data: undefined, header: {} }),
      });
    });
  }
}

/**
 * The live inbox: `inbox.new` and `inbox.unread_count` as they happen. Reconnects after a
 * drop with backoff (1 s doubling to 30 s, each wait drawn between half and all of it, so that
 * a crowd of phones does not come back in step); the backoff starts again only once the server
 * has sent its first message (an accepted upgrade may still be closed with 1013 while the
 * server is busy). A close for the token (1008) refreshes it first; the live inbox stops when
 * the session is over. Call `close()` when the page goes away.
 */
export class LiveInbox {
  private task: WechatMiniprogram.SocketTask | undefined;
  private closed = false;
  private backoffMs = 1000;
  private pinger: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly client: FingertipClient,
    private readonly onMessage: (m: LiveMessage) => void,
  ) {
    this.open();
  }

  close(): void {
    this.closed = true;
    this.stopPings();
    this.task?.close({ code: 1000 });
  }

  private open(): void {
    const t = this.client.tokens.get();
    if (this.closed || !t) {
      return;
    }
    const url = this.client.baseUrl.replace(/^http/, "ws") + "/api/v1/ws" + query({ access_token: t.access });
    const task = wx.connectSocket({ url });
    this.task = task;
    task.onOpen(() => {
      // The server drops a socket it has not heard from in two minutes.
      this.pinger = setInterval(() => task.send({ data: JSON.stringify({ type: "ping" }) }), 25000);
    });
    task.onMessage((m) => {
      if (typeof m.data === "string") {
        this.backoffMs = 1000;
        this.onMessage(JSON.parse(m.data) as LiveMessage);
      }
    });
    task.onClose((e) => this.reopen(e.code));
    task.onError(() => undefined);
  }

  private stopPings(): void {
    if (this.pinger !== undefined) {
      clearInterval(this.pinger);
      this.pinger = undefined;
    }
  }

  private async reopen(code: number): Promise<void> {
    this.stopPings();
    if (this.closed) {
      return;
    }
    if (code === 1008 && (await this.client.refresh()) === "ended") {
      return;
    }
    const wait = this.backoffMs * (0.5 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, 30000);
    await sleep(wait);
    this.open();
  }
}
