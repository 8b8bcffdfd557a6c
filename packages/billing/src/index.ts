/**
 * @tally/billing — the pure billing domain: periods, meters, rating, the credit log and invoices.
 * No I/O and no clock: every function takes the time it needs, so tests travel in time and the
 * collector persists what these functions return.
 */
export { divHalfEven, roundHalfEven, lineAmount, grossAmount, discountAmount, sum } from './money.js'
export type { Priced } from './money.js'
export {
  CYCLE_MONTHS,
  addMonthsClamped,
  daysBetween,
  addDays,
  nextDay,
  startOfDay,
  localDate,
  localDayOf,
  allPeriods,
  periodsFrom,
  periods,
  periodOn,
  periodAt,
  periodByIndex,
  subscriptionEnd,
  monthSlices,
  monthSliceAt,
} from './period.js'
export type { MonthSlice, Period, SubscriptionChange, BillingSubscription } from './period.js'
export {
  CHAT_SESSION_MS,
  CONVERSATION_IDLE_MS,
  conversationBotMs,
  uniquePerSession,
  emailQuota,
  checkEmails,
  emptyMeters,
  meters,
  addRow,
  rollupEvents,
} from './meters.js'
export type { UsageRow, Meters, ChatPoint, MeterEvent } from './meters.js'
export {
  chatSessions,
  billableBotMs,
  conversationSessions,
  comparePhaseEvents,
  inOrder,
  stepConversation,
  foldConversation,
  foldMore,
  foldSteps,
  conversationStatus,
} from './chat.js'
export type { PhaseEvent, ConversationState, ConversationStatus } from './chat.js'
export {
  RATED_METERS,
  periodRef,
  discountFor,
  contactRange,
  recurringLines,
  contactRangeLine,
  priced,
  lineColumns,
  termsTimeline,
  termsBetween,
  periodTermsAt,
  termsAt,
  usageLines,
  overage,
  contactsExcessLine,
} from './rating.js'
export type { BillingAccount, Terms, PeriodTerms, PeriodRef, LineKind, InvoiceLine, LineInput, LineColumns } from './rating.js'
export {
  ACCOUNT_WALLET,
  memberWallet,
  replay,
  applyEntries,
  isOpen,
  openLedger,
  advance,
  spendableLots,
  transferableLots,
  balances,
  balanceOf,
  creditsDue,
  spend,
  transfer,
  purchase,
} from './ledger.js'
export type {
  LotDraw,
  OpenMark,
  GrantEntry,
  PurchaseEntry,
  SpendEntry,
  TransferOutEntry,
  TransferInEntry,
  ExpiryEntry,
  LedgerEntry,
  Lot,
  LedgerState,
  Balances,
  CreditRefusal,
  CreditResult,
  Moved,
  SpendRequest,
  TransferRequest,
  PurchaseRequest,
} from './ledger.js'
export {
  periodStates,
  periodStateAt,
  computeInvoices,
  invoicesDue,
  upgradeKey,
  nextNumber,
  finalize,
  preview,
  runBilling,
  periodSummary,
  emailAllowance,
  emailWindow,
  emailsAt,
  emailMonthAt,
  quotaContacts,
} from './invoice.js'
export type { BillTo, InvoiceKind, Invoice, BillingData, PeriodState, BillingRun, PeriodSummary, EmailGrant, EmailAllowance } from './invoice.js'
export { billingWindow, contactsInto, lastRecurring, readingBefore } from './window.js'
export type { BillingWindow, ContactsReading } from './window.js'
export { withChange, previewChange } from './change.js'
export type { ChangePreview, TermsView } from './change.js'
