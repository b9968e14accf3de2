/**
 * A message that is not a valid CloudEvent. `status` is 400, or 415 for a CloudEvents format
 * Eddy does not read; the message names the problem and how to fix it.
 *
 * @example
 * throw new CloudEventError(400, 'missing required attribute "id": send it as the ce-id header');
 */
export class CloudEventError extends Error {
  constructor(readonly status: 400 | 415, message: string) {
    super(message);
    this.name = "CloudEventError";
  }
}
