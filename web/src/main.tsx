import { render } from 'preact';
import '@picocss/pico/css/pico.min.css';
import './styles/tokens.css';
import './styles/app.css';
import { App } from './app/App';

render(<App />, document.getElementById('app')!);
