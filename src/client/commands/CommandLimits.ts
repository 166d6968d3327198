/** The client options every command's argument checks read (`max_key_size`, `max_value`). */
export interface CommandLimits {
  readonly maxKeySize: number;
  readonly maxValueSize: number;
}
