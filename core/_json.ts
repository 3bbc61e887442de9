// Fast checks for the hot path of Queue.add, building no message: shared's own predicates for
// the rules of assertJsonValue and validateJobName. `false` means "not valid": the caller then
// runs the shared check, which throws the message naming the field.

export { isJsonValue as isJson, isValidJobName as isJobName } from "@conveyor/shared";
