import { Alert, Button, Code, Group, Stack, Text } from "@mantine/core";
import { Component, type ErrorInfo, type ReactNode } from "react";
import { Link } from "react-router";

interface Props {
  children: ReactNode;
  /** Whether to offer the way to the overview (the sign-in and setup pages have no overview yet). */
  overview?: boolean;
}

interface State {
  error: Error | null;
}

/**
 * One per page: a page that throws while rendering shows what went wrong in words and a way on,
 * instead of React unmounting the whole console into a blank window. The rest of the console
 * (navigation, header) keeps working; `key` it by the page's path so moving on resets it.
 */
export class PageErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    // Kept in the browser's console for whoever reports the bug; the page shows the short form.
    console.error("This page failed to render:", error, info.componentStack);
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <Stack align="flex-start" data-testid="page-error" role="alert">
        <Alert color="red" title="This page ran into a problem" w="100%" maw={720}>
          <Stack gap="xs">
            <Text size="sm">
              Something in the console went wrong while showing this page. Try again, or go back to the overview.
            </Text>
            <Text size="sm">
              What failed: <Code>{error.message || error.name}</Code>
            </Text>
          </Stack>
        </Alert>
        <Group>
          <Button onClick={() => this.setState({ error: null })}>Try again</Button>
          {this.props.overview !== false && (
            <Button component={Link} to="/" variant="default" onClick={() => this.setState({ error: null })}>
              Go to the overview
            </Button>
          )}
        </Group>
      </Stack>
    );
  }
}
