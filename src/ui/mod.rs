//! Rendering: `view(&App, &Theme, &mut Frame)` borrows state and draws it.
