/**
 * A problem with one field of a submitted resource, named by its JSON path
 * (`spec.delivery.retry`, `spec.filters[2].cesql`). The control plane answers 422 with all of them.
 *
 * @example
 * const errs: FieldError[] = [{ field: "spec.delivery.retry", message: "must be >= 0, got -1" }];
 */
export interface FieldError {
  field: string;
  message: string;
}
