import { Button, Group, List, Modal, Text } from '@mantine/core';
import { useEffect, useReducer, useRef } from 'react';

/*
 * Unsaved changes: each form panel says whether it differs from what is saved (useUnsavedChanges);
 * leaving the page goes through leaveGuarded, which asks first when any panel would lose its edits.
 * <UnsavedChangesDialog /> is rendered once (App) and asks; <UnsavedHint /> sits next to a Save button.
 */

const dirty = new Map<number, string>();
const listeners = new Set<() => void>();
let nextId = 1;
let pending: (() => void) | null = null;

function emit() {
  listeners.forEach((l) => l());
}

/** Registers a panel's unsaved state under a name the user knows ("Schedule"); cleared when the panel goes away. */
export function useUnsavedChanges(isDirty: boolean, what: string) {
  const id = useRef(0);
  if (id.current === 0) id.current = nextId++;
  useEffect(() => {
    const key = id.current;
    if (isDirty) dirty.set(key, what);
    else dirty.delete(key);
    emit();
    return () => {
      if (dirty.delete(key)) emit();
    };
  }, [isDirty, what]);
}

/** The names of the panels with unsaved changes, in the order they were edited. */
export function unsavedChanges(): string[] {
  return [...new Set(dirty.values())];
}

/** Runs go at once when nothing is unsaved; otherwise asks first (UnsavedChangesDialog) and runs it only if the user leaves. */
export function leaveGuarded(go: () => void) {
  if (dirty.size === 0) {
    go();
    return;
  }
  pending = go;
  emit();
}

function useChanges() {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    listeners.add(rerender);
    return () => {
      listeners.delete(rerender);
    };
  }, []);
}

/** Asks before leaving a page with unsaved changes; rendered once, near the app's root. */
export function UnsavedChangesDialog() {
  useChanges();
  const stay = () => {
    pending = null;
    emit();
  };
  const leave = () => {
    const go = pending;
    pending = null;
    dirty.clear();
    emit();
    go?.();
  };
  const names = unsavedChanges();
  return (
    <Modal opened={pending !== null} onClose={stay} title="Leave without saving?" centered data-testid="unsaved-dialog">
      <Text size="sm">These have changes that are not saved yet:</Text>
      <List size="sm" my="xs">
        {names.map((n) => (
          <List.Item key={n}>{n}</List.Item>
        ))}
      </List>
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={stay} data-autofocus>
          Stay and save
        </Button>
        <Button color="red" variant="light" onClick={leave}>
          Leave without saving
        </Button>
      </Group>
    </Modal>
  );
}

/** "Unsaved changes", next to a Save button, while the form differs from what is saved. */
export function UnsavedHint({ show }: { show: boolean }) {
  if (!show) return null;
  return (
    <Text size="xs" c="orange" fw={500} data-testid="unsaved-hint">
      Unsaved changes
    </Text>
  );
}
