// A trial request refused for a reason the person asking can fix; nothing was written.
export class TrialRefusal extends Error {
  override name = 'TrialRefusal';
}
