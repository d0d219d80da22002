import { Code } from '@mantine/core';
import { Fragment } from 'react';

/** Renders `backticked` parts of a message from Go as inline code. */
export function RichText({ text }: { text: string }) {
  const parts = text.split('`');
  return (
    <>
      {parts.map((p, i) =>
        i % 2 === 1 && i < parts.length - 1 ? (
          <Code key={i} className="selectable">
            {p}
          </Code>
        ) : (
          <Fragment key={i}>{i % 2 === 1 ? `\`${p}` : p}</Fragment>
        ),
      )}
    </>
  );
}
